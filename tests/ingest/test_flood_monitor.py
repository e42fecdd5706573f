"""The flood monitor behind a pipeline: what it counts, and where its alerts go (store, log, webhook)."""

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import pytest
from structlog.testing import capture_logs

from metrics_support import samples
from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core.alerts import Alert
from sigma_aetl.core.envelope import Envelope
from sigma_aetl.core.flood import Thresholds
from sigma_aetl.errors import StoreError
from sigma_aetl.ingest.alert_delivery import Deliveries, Webhook
from sigma_aetl.ingest.flood import FloodMonitor
from sigma_aetl.ingest.metrics import Metrics
from sigma_aetl.ingest.observer import combined
from sigma_aetl.ingest.pipeline import Pipeline
from sigma_aetl.stores.sqlite.store import SqliteStore
from sigma_aetl.testing import INVALID_SHIPMENT, VALID_SHIPMENT, wait_until

EnvelopeFactory = Callable[..., Envelope]
FIXED = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


class Hook:
    """A real HTTP server taking webhook POSTs: it answers ``statuses`` in turn (the last one after)."""

    def __init__(self, *statuses: int, hold: threading.Event | None = None) -> None:
        self.statuses = list(statuses)
        self.bodies: list[dict[str, Any]] = []
        self.hold = hold
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if hook.hold is not None:
                    hook.hold.wait(10)
                hook.bodies.append(orjson.loads(body))
                status = hook.statuses.pop(0) if len(hook.statuses) > 1 else hook.statuses[0]
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"

    def __enter__(self) -> "Hook":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        if self.hold is not None:
            self.hold.set()
        self.server.shutdown()
        self.server.server_close()


class AlertsRefused(SqliteStore):
    """A SQLite store whose alert table is out of reach."""

    def save_alert(self, alert: Alert) -> None:
        """Always fail, as a store that went away would."""
        raise StoreError("the store is gone")


@pytest.fixture
def metrics() -> Metrics:
    """Metrics of a file ingest, where the monitor's series are served too."""
    return Metrics("file")


def guarded(
    pipeline: Pipeline, metrics: Metrics, thresholds: Thresholds, webhook: Webhook | None = None, **extra: Any
) -> FloodMonitor:
    """A monitor on ``pipeline``'s store, fed by it beside ``metrics``."""
    deliveries = Deliveries(pipeline.store, webhook, **extra)
    monitor = FloodMonitor(thresholds, "file", deliveries, process="test:1")
    pipeline.observer = combined(metrics.observer, monitor)
    monitor.register(metrics)
    return monitor


def invalid(make_envelope: EnvelopeFactory, count: int, **extra: Any) -> list[Envelope]:
    """``count`` distinct invalid shipment@1 events."""
    return [make_envelope(INVALID_SHIPMENT.replace(b"-5", b"-%d" % (n + 1)), **extra) for n in range(count)]


def series(metrics: Metrics, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """The samples ``name`` of ``metrics``."""
    return samples(metrics.exposition().decode(), name)


def test_an_alert_is_logged_stored_and_counted(
    pipeline: Pipeline, metrics: Metrics, make_envelope: EnvelopeFactory
) -> None:
    """Five failures in a row: one ``flood.alert`` line with every field, one stored alert, one count."""
    monitor = guarded(pipeline, metrics, Thresholds(consecutive_failures=5))
    with capture_logs() as logged:
        pipeline.process(invalid(make_envelope, 8))
        monitor.close()
    (line,) = [entry for entry in logged if entry["event"] == "flood.alert"]
    (stored,) = pipeline.store.list_alerts(None, 10)
    assert {
        k: v for k, v in line.items() if k not in ("event", "log_level", "component")
    } == stored.model_dump(mode="json")
    assert (stored.kind, stored.value, stored.source, stored.process) == (
        "consecutive_failures",
        5,
        "file",
        "test:1",
    )
    labels = (("contract", "shipment@1"), ("kind", "consecutive_failures"), ("source", "file"))
    assert series(metrics, "sigma_aetl_flood_alerts_total") == {labels: 1}


def test_a_duplicate_is_not_counted_but_a_repeat_is(
    pipeline: Pipeline, metrics: Metrics, make_envelope: EnvelopeFactory
) -> None:
    """A keyed batch sent again (a retry) adds nothing to the run; the same bytes without a key do."""
    monitor = guarded(pipeline, metrics, Thresholds(consecutive_failures=4))
    keyed = invalid(make_envelope, 3, idempotency_key="batch-1")
    keyed = [replace(envelope, batch_index=i) for i, envelope in enumerate(keyed)]
    pipeline.process(keyed)
    pipeline.process(keyed)
    assert series(metrics, "sigma_aetl_flood_alerts_total") == {}
    pipeline.process([make_envelope(INVALID_SHIPMENT)])
    pipeline.process([make_envelope(INVALID_SHIPMENT)])
    monitor.close()
    assert len(pipeline.store.list_alerts(None, 10)) == 1


def test_unknown_contract_names_share_one_bounded_key(
    pipeline: Pipeline, metrics: Metrics, make_envelope: EnvelopeFactory
) -> None:
    """Events to invented contract names are one key, ``_unregistered@_unregistered``: they alert together."""
    monitor = guarded(pipeline, metrics, Thresholds(consecutive_failures=10))
    pipeline.process([make_envelope(VALID_SHIPMENT, contract=f"made-up-{n}") for n in range(10)])
    monitor.close()
    (alert,) = pipeline.store.list_alerts(None, 10)
    assert alert.contract == "_unregistered@_unregistered"
    assert [key.contract for key in monitor.guard.known()] == ["_unregistered@_unregistered"]


def test_the_webhook_is_retried_until_the_server_takes_the_alert(
    pipeline: Pipeline, metrics: Metrics, make_envelope: EnvelopeFactory
) -> None:
    """The server answers 500 first, then 204: the alert's JSON is posted twice and nothing is counted."""
    with Hook(500, 204) as hook:
        monitor = guarded(
            pipeline, metrics, Thresholds(consecutive_failures=3), Webhook(hook.url, 2, 3, 0.01)
        )
        pipeline.process(invalid(make_envelope, 3))
        wait_until(lambda: len(hook.bodies) == 2, 10, "the second POST")
        monitor.close()
    (stored,) = pipeline.store.list_alerts(None, 10)
    assert hook.bodies == [stored.model_dump(mode="json")] * 2
    assert series(metrics, "sigma_aetl_flood_webhook_failures_total") == {(): 0}


def test_a_webhook_that_keeps_failing_is_logged_and_counted(
    pipeline: Pipeline, metrics: Metrics, make_envelope: EnvelopeFactory
) -> None:
    """A server answering 503 every time gets ``attempts`` POSTs; then the failure is logged and counted."""
    with Hook(503) as hook, capture_logs() as logged:
        monitor = guarded(
            pipeline, metrics, Thresholds(consecutive_failures=3), Webhook(hook.url, 2, 2, 0.01)
        )
        pipeline.process(invalid(make_envelope, 3))
        wait_until(lambda: monitor_failures(metrics) == 1, 10, "the webhook failure to be counted")
        monitor.close()
    assert len(hook.bodies) == 2
    (failed,) = [entry for entry in logged if entry["event"] == "flood.webhook_failed"]
    assert failed["attempts"] == 2


def monitor_failures(metrics: Metrics) -> float:
    """``sigma_aetl_flood_webhook_failures_total`` now."""
    return series(metrics, "sigma_aetl_flood_webhook_failures_total")[()]


def test_a_full_webhook_queue_never_blocks_and_is_counted(
    pipeline: Pipeline, metrics: Metrics, make_envelope: EnvelopeFactory
) -> None:
    """With the webhook stuck and its queue full, ingestion goes on; each alert not queued is counted."""
    hold = threading.Event()
    with Hook(204, hold=hold) as hook:
        webhook = Webhook(hook.url, 5, 1, 0)
        monitor = guarded(pipeline, metrics, Thresholds(consecutive_failures=1), webhook, webhook_queue=1)
        for n in range(4):  # each failure after a pass alerts again: four alerts
            passes = make_envelope(VALID_SHIPMENT.replace(b"TRUE", b"T%d" % n))
            pipeline.process([*invalid(make_envelope, 1, idempotency_key=f"k{n}"), passes])
        wait_until(lambda: monitor_failures(metrics) >= 2, 5, "the full queue to be counted")
        hold.set()
        monitor.close()
    assert len(pipeline.store.list_alerts(None, 10)) == 4
    assert monitor_failures(metrics) + len(hook.bodies) == 4


def test_a_store_error_saving_an_alert_is_logged_and_ingestion_goes_on(
    tmp_path: Path, registry: Registry, metrics: Metrics, make_envelope: EnvelopeFactory
) -> None:
    """A store refusing alerts: the events are stored all the same, and the error is logged."""
    store = AlertsRefused(tmp_path / "refused.db", writer="inline")
    pipeline = Pipeline(registry, store)
    monitor = guarded(pipeline, metrics, Thresholds(consecutive_failures=2))
    with capture_logs() as logged:
        outcomes = pipeline.process(invalid(make_envelope, 4))
        monitor.close()
    store.close()
    assert [outcome.status for outcome in outcomes] == ["FAILED"] * 4
    (refused,) = [entry for entry in logged if entry["event"] == "flood.alert_not_saved"]
    assert refused["error"] == "the store is gone"


def test_the_state_gauge_says_ok_alerting_and_paused(
    registry: Registry, metrics: Metrics, sqlite_store: SqliteStore
) -> None:
    """Per contract and partition: 0 while below the thresholds, 1 once alerting, 2 once paused; a released
    partition is forgotten (re-armed)."""
    monitor = FloodMonitor(
        Thresholds(consecutive_failures=2), "kafka", Deliveries(sqlite_store, None), pause=True
    )
    monitor.register(metrics)
    pipeline = Pipeline(registry, sqlite_store, observer=monitor)
    kafka = {"kind": "kafka", "topic": "events", "consumer_group": "g"}

    def envelope(raw: bytes, partition: int, offset: int) -> Envelope:
        source = {**kafka, "partition": partition, "offset": offset}
        identity = ("kafka", "events", str(partition), str(offset))
        return Envelope(
            raw=raw,
            contract="shipment",
            version="1",
            received_at=FIXED,
            source=source,
            transport_identity=identity,
        )

    def state() -> dict[str, float]:
        found = series(metrics, "sigma_aetl_flood_guard_state")
        return {dict(labels)["partition"]: value for labels, value in found.items()}

    pipeline.process([envelope(INVALID_SHIPMENT, 0, 0), envelope(VALID_SHIPMENT, 1, 0)])
    assert state() == {"events:0": 0, "events:1": 0}
    pipeline.process([envelope(INVALID_SHIPMENT, 0, 1)])
    assert state() == {"events:0": 1, "events:1": 0}
    (paused,) = monitor.take_pauses()
    assert paused.action == "paused"
    monitor.mark_paused(paused)
    assert state() == {"events:0": 2, "events:1": 0}
    monitor.guard.rearm("events:0")  # its key forgotten (as past max_keys): still shown paused
    assert state() == {"events:0": 2, "events:1": 0}
    monitor.release("events:0")
    assert state() == {"events:1": 0}
    monitor.close()
