"""The worker's configuration: settings and options checked before anything starts; retry timing."""

import os
import threading
import time
from pathlib import Path

import pytest
from confluent_kafka import KafkaError
from structlog.testing import capture_logs
from typer.testing import CliRunner

from kafka_support import CONTRACTS
from sigma_aetl.cli.app import app
from sigma_aetl.errors import ConfigError
from sigma_aetl.kafka.client import ErrorLog
from sigma_aetl.kafka.config import KafkaConfig
from sigma_aetl.kafka.worker import StopFlag, backoff_delay
from sigma_aetl.settings import Settings


@pytest.fixture(autouse=True)
def _hermetic_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run as if no SIGMA_AETL_* variable were set on this machine."""
    for key in [key for key in os.environ if key.startswith("SIGMA_AETL_")]:
        monkeypatch.delenv(key)


def config(**settings: object) -> KafkaConfig:
    """The Kafka configuration of these settings."""
    return KafkaConfig.from_settings(Settings(**settings))  # type: ignore[arg-type]


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGMA_AETL_KAFKA_* variables set the routes (a JSON map), extra topics and librdkafka properties."""
    monkeypatch.setenv("SIGMA_AETL_KAFKA_ROUTES", '{"shipments": "shipment@1"}')
    monkeypatch.setenv("SIGMA_AETL_KAFKA_TOPICS", '["events", "shipments"]')
    monkeypatch.setenv("SIGMA_AETL_KAFKA_CONSUMER_CONFIG", '{"session.timeout.ms": 6000}')
    monkeypatch.setenv("SIGMA_AETL_KAFKA_GROUP_ID", "ingest")
    built = KafkaConfig.from_settings(Settings())
    assert built.routes == {"shipments": ("shipment", "1")}
    assert built.topics == ("shipments", "events")
    assert built.consumer_properties()["session.timeout.ms"] == 6000
    assert built.consumer_properties()["group.id"] == "ingest"


def test_the_guarantee_properties_are_fixed() -> None:
    """The consumer never commits or stores offsets by itself; the producer is idempotent."""
    built = config(kafka_routes={"t": "shipment@1"})
    consumer = built.consumer_properties()
    assert (consumer["enable.auto.commit"], consumer["enable.auto.offset.store"]) == (False, False)
    assert consumer["auto.offset.reset"] == "earliest"
    assert built.producer_properties()["enable.idempotence"] is True


def test_group_membership_is_cooperative_and_dynamic_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    """By default partitions move cooperatively and each start is a new member; an instance id (the
    environment's, empty meaning none) makes the membership static."""
    default = config(kafka_topics=["t"]).consumer_properties()
    assert default["partition.assignment.strategy"] == "cooperative-sticky"
    assert "group.instance.id" not in default
    monkeypatch.setenv("SIGMA_AETL_KAFKA_GROUP_INSTANCE_ID", "sigma-aetl-worker-2")
    monkeypatch.setenv("SIGMA_AETL_KAFKA_ASSIGNMENT_STRATEGY", "range")
    static = config(kafka_topics=["t"]).consumer_properties()
    assert (static["group.instance.id"], static["partition.assignment.strategy"]) == (
        "sigma-aetl-worker-2",
        "range",
    )
    monkeypatch.setenv("SIGMA_AETL_KAFKA_GROUP_INSTANCE_ID", "")
    assert "group.instance.id" not in config(kafka_topics=["t"]).consumer_properties()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({}, "no topic to consume"),
        ({"kafka_topics": ["t"], "kafka_consumer_config": {"group.instance.id": "x"}}, "group.instance.id"),
        ({"kafka_routes": {"t": "shipment"}}, "not NAME@VERSION"),
        ({"kafka_routes": {"t": "shipment@1"}, "kafka_failed_topic": "t"}, "loop"),
        ({"kafka_topics": ["t"], "kafka_config": {"enable.auto.commit": "true"}}, "enable.auto.commit"),
        ({"kafka_topics": ["t"], "kafka_producer_config": {"enable.idempotence": False}}, "cannot be"),
    ],
)
def test_configurations_that_cannot_work_are_refused(settings: dict[str, object], message: str) -> None:
    """No topic, a malformed route, an output topic that is also consumed, or a fixed property: refused."""
    with pytest.raises(ConfigError, match=message):
        config(**settings)


def test_backoff_doubles_up_to_the_cap() -> None:
    """Retry delays start at the initial delay, double, and stop growing at the maximum."""
    assert [backoff_delay(n, 0.5, 4.0) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert backoff_delay(10_000, 0.5, 30.0) == 30.0


def test_a_stop_flag_ends_a_wait_early() -> None:
    """An unset stop flag waits out its timeout and answers False; setting it ends a long wait with True."""
    flag = StopFlag()
    started = time.monotonic()
    assert flag.wait(0.1) is False
    assert time.monotonic() - started >= 0.1
    answers: list[bool] = []
    waiter = threading.Thread(target=lambda: answers.append(flag.wait(60)), daemon=True)
    waiter.start()
    flag.set("test")
    waiter.join(timeout=10)
    assert answers == [True], "the 60 s wait did not end when the flag was set"


def run_cli(tmp_path: Path, *args: str) -> tuple[int, str]:
    """``sigma-aetl worker ARGS`` in-process on a temporary store; exit code and output."""
    store = f"sqlite:///{tmp_path}/w.db"
    result = CliRunner().invoke(app, ["--store", store, "--contracts", str(CONTRACTS), "worker", *args])
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--route", "shipments=parcel@1"], "No contract is named 'parcel'"),
        (["--route", "shipments=shipment@7"], "has no version '7'"),
        (["--route", "shipments"], "not TOPIC=NAME@VERSION"),
        ([], "no topic to consume"),
        (["--topic", "t", "--kafka-config", "group.id=x"], "cannot be overridden"),
        (["--topic", "t", "--kafka-config", "no.such.property=1"], "No such configuration property"),
        (["--topic", "t", "--kafka-config", "novalue"], "not KEY=VALUE"),
        (["--topic", "t", "--assignment-strategy", "sticky"], "kafka_assignment_strategy"),
    ],
)
def test_the_worker_command_refuses_to_start_on_a_bad_configuration(
    tmp_path: Path, args: list[str], message: str
) -> None:
    """A routed contract that does not exist, a malformed option or a bad property: exit code 2, said why."""
    code, output = run_cli(tmp_path, *args)
    assert code == 2, output
    assert message in " ".join(output.split())


def test_repeated_client_errors_are_logged_once_per_interval() -> None:
    """An error code repeating (a broker down, retried every few ms) is logged once, then with its count."""
    now = [0.0]
    log = ErrorLog("test", every=30, clock=lambda: now[0])
    transport = KafkaError(KafkaError._TRANSPORT, "connection refused")
    with capture_logs() as logged:
        for second in (0, 1, 2, 31):
            now[0] = second
            log(transport)
        log(KafkaError(KafkaError._FATAL, "fenced", fatal=True))
    assert [(entry["repeated"], entry["fatal"]) for entry in logged] == [(0, False), (2, False), (0, True)]
