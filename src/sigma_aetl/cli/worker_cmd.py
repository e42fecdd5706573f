"""``sigma-aetl worker``: consume Kafka topics with a consumer group, store every message's decision once.

Runs until SIGTERM or SIGINT; then it finishes the batch in hand, stores it, commits its offsets, closes the
consumer and exits 0. SIGHUP reloads the contracts between two batches. Exit code 2 when it cannot start
(the health port is in use, the contracts or the store fail) or the Kafka client fails fatally.
"""

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from types import FrameType
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from sigma_aetl import logs
from sigma_aetl.cli import heap, listen
from sigma_aetl.cli.errors import fail, operational_errors
from sigma_aetl.cli.params import WatchContractsOption
from sigma_aetl.cli.state import load_contracts, open_gateway, settings_of
from sigma_aetl.ingest.metrics import Metrics
from sigma_aetl.kafka.admin import Admin
from sigma_aetl.kafka.config import KafkaConfig
from sigma_aetl.kafka.health import Health, HealthServer
from sigma_aetl.kafka.routing import parse_route
from sigma_aetl.kafka.worker import Worker, WorkerStats
from sigma_aetl.settings import KAFKA_BATCH_SIZE, Settings

_ENV = "SIGMA_AETL_KAFKA_"


def worker(
    ctx: typer.Context,
    *,
    bootstrap_servers: Annotated[
        str | None,
        typer.Option(
            metavar="HOST:PORT", help=f"Kafka brokers, comma-separated. Env {_ENV}BOOTSTRAP_SERVERS."
        ),
    ] = None,
    group: Annotated[
        str | None, typer.Option(metavar="GROUP", help=f"Consumer group id. Env {_ENV}GROUP_ID.")
    ] = None,
    route: Annotated[
        list[str] | None,
        typer.Option(
            metavar="TOPIC=NAME@VERSION",
            help=f"Route every message of TOPIC to a contract version; repeatable. Env {_ENV}ROUTES "
            '(JSON: {"shipments": "shipment@1"}).',
        ),
    ] = None,
    topic: Annotated[
        list[str] | None,
        typer.Option(
            metavar="TOPIC",
            help="Also consume TOPIC, routing each message by its sigma-contract and sigma-version "
            f'headers; repeatable. Env {_ENV}TOPICS (JSON: ["events"]).',
        ),
    ] = None,
    batch_size: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=100_000,
            help=f"Most messages per batch. Env {_ENV}BATCH_SIZE; default {KAFKA_BATCH_SIZE}.",
        ),
    ] = None,
    batch_timeout: Annotated[
        float | None,
        typer.Option(
            min=0.001, max=60, metavar="SECONDS", help=f"Wait to fill a batch. Env {_ENV}BATCH_TIMEOUT; 1.0."
        ),
    ] = None,
    accepted_topic: Annotated[
        str | None,
        typer.Option(
            metavar="TOPIC", help=f"Produce stored accepted records here. Env {_ENV}ACCEPTED_TOPIC."
        ),
    ] = None,
    failed_topic: Annotated[
        str | None,
        typer.Option(metavar="TOPIC", help=f"Produce stored failure records here. Env {_ENV}FAILED_TOPIC."),
    ] = None,
    health_port: Annotated[
        int | None,
        typer.Option(
            min=0, max=65535, help=f"Serve /healthz and /readyz on this port. Env {_ENV}HEALTH_PORT."
        ),
    ] = None,
    instance_id: Annotated[
        str | None,
        typer.Option(
            metavar="ID",
            help="Static group membership: this worker's stable id in the group (e.g. the pod name); "
            f"restarted with it, the worker takes its partitions back without a rebalance. Env "
            f"{_ENV}GROUP_INSTANCE_ID.",
        ),
    ] = None,
    assignment_strategy: Annotated[
        str | None,
        typer.Option(
            metavar="STRATEGY",
            help="cooperative-sticky (the default), range or roundrobin; the same for every member. Env "
            f"{_ENV}ASSIGNMENT_STRATEGY.",
        ),
    ] = None,
    watch_contracts: WatchContractsOption = None,
    kafka_config: Annotated[
        list[str] | None,
        typer.Option(
            metavar="KEY=VALUE",
            help=f"Extra librdkafka property for every client (e.g. security.protocol=SSL); repeatable. "
            f"Env {_ENV}CONFIG (JSON); {_ENV}CONSUMER_CONFIG and {_ENV}PRODUCER_CONFIG for one client.",
        ),
    ] = None,
) -> None:
    """Consume Kafka topics with a consumer group; validate and store each message's decision exactly once.

    A topic given with **--route** maps all its messages to one contract version; a topic given with
    **--topic** is routed by each message's `sigma-contract` and `sigma-version` headers. A message with no
    route, or naming an unknown contract or version, is stored as a failure record. Offsets are committed
    only after the batch is stored. SIGHUP reloads the contracts between batches. See docs/kafka.md.

    With **--health-port**, `sigma-aetl worker partitions` and `sigma-aetl worker resume TOPIC PARTITION`
    list and resume the partitions the flood guard paused (`SIGMA_AETL_FLOOD_PAUSE`).

    Exit codes: 0 stopped by SIGTERM/SIGINT, 2 could not start (the health port in use included) or a
    fatal Kafka error.
    """
    if ctx.invoked_subcommand is not None:  # `worker partitions` / `worker resume`: not the worker itself
        return
    options = {
        "kafka_bootstrap_servers": bootstrap_servers,
        "kafka_group_id": group,
        "kafka_routes": _pairs(route, parse_route, "--route"),
        "kafka_topics": topic,
        "kafka_batch_size": batch_size,
        "kafka_batch_timeout": batch_timeout,
        "kafka_accepted_topic": accepted_topic,
        "kafka_failed_topic": failed_topic,
        "kafka_health_port": health_port,
        "kafka_group_instance_id": instance_id,
        "kafka_assignment_strategy": assignment_strategy,
        "contracts_watch_interval": watch_contracts,
        "kafka_config": _pairs(kafka_config, _property, "--kafka-config"),
    }
    settings = _with(settings_of(ctx), options)
    logs.configure(settings.log_level, settings.log_format)
    with operational_errors(settings):
        run(settings)


def run(settings: Settings) -> WorkerStats:
    """Check the configuration and the routed contracts, then run the worker until a stop signal."""
    config = KafkaConfig.from_settings(settings)
    registry = load_contracts(settings)
    config.check_contracts(registry)  # before the store is opened: a typo is not the events' fault
    health = Health()
    metrics = Metrics("kafka") if settings.metrics_enabled else None
    # the health port before the store: a port in use must fail before anything is created
    with _health_server(settings, health, metrics) as server, open_gateway(settings, registry) as gateway:
        worker = Worker.build(config, gateway, health, metrics)
        if server is not None:  # the admin endpoints, now that the store (and its keys) is open
            server.admin = Admin(worker.source.pauses, gateway.store)
        heap.settle()
        with stop_on_signals(worker.stop), reload_on_sighup(worker.reload_contracts):
            return worker.run()


@contextmanager
def stop_on_signals(stop: Callable[[str], None]) -> Iterator[None]:
    """Call ``stop(signal_name)`` on SIGTERM or SIGINT while the block runs; the old handlers come back after.

    The handler only sets a flag: logging from it could re-enter a write to stderr the signal interrupted.
    """

    def handler(signum: int, _frame: FrameType | None) -> None:
        stop(signal.Signals(signum).name)

    previous = {signum: signal.signal(signum, handler) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


@contextmanager
def reload_on_sighup(reload: Callable[[str], None]) -> Iterator[None]:
    """Call ``reload("SIGHUP")`` on SIGHUP while the block runs (it must only set a flag, as for stop)."""

    def handler(signum: int, _frame: FrameType | None) -> None:
        reload(signal.Signals(signum).name)

    previous = signal.signal(signal.SIGHUP, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGHUP, previous)


def _health_server(settings: Settings, health: Health, metrics: Metrics | None) -> Any:
    if settings.kafka_health_port is None:
        return nullcontext()
    try:
        return HealthServer(health, settings.host, settings.kafka_health_port, metrics)
    except OSError as exc:
        option = f"--health-port or {_ENV}HEALTH_PORT"
        listen.refused(settings.host, settings.kafka_health_port, exc, option)


def _with(settings: Settings, options: dict[str, Any]) -> Settings:
    """The settings with the options actually given on the command line, validated again."""
    given = {name: value for name, value in options.items() if value is not None}
    try:
        return Settings(**{**settings.model_dump(), **given})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        fail(f"invalid worker settings (command-line options or {_ENV}* variables): {problems}")


def _pairs(
    values: list[str] | None, parse: Callable[[str], tuple[str, str]], option: str
) -> dict[str, str] | None:
    if not values:
        return None
    try:
        return dict(parse(value) for value in values)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None


def _property(text: str) -> tuple[str, str]:
    key, equals, value = text.partition("=")
    if not equals or not key.strip():
        raise ValueError(f"{text!r} is not KEY=VALUE (for example security.protocol=SSL)")
    return key.strip(), value
