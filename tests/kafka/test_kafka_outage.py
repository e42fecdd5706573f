"""Store outages, against a real broker: nothing is committed while the store fails, the worker says it
is not ready and retries the same batch, and nothing is lost when the store returns.
"""

import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from structlog.testing import capture_logs

from kafka_support import Kafka, Msg, StoreReader, WorkerFactory, WorkerThread, ends_of, example_count
from sigma_aetl.core.records import AcceptedRecord, FailureRecord
from sigma_aetl.errors import StoreUnavailable
from sigma_aetl.kafka.health import Health, HealthServer
from sigma_aetl.stores.base import StagedWrite, Store, WriteReport, Written
from sigma_aetl.stores.sqlite.store import SqliteStore


class FlakyStore:
    """A real store whose writes fail while :attr:`down` is set (the broker stays real)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.down = True
        self.failed_writes = 0

    writes_in_background = False

    def submit(self, write: StagedWrite) -> Written:
        """Write at once."""
        return Written(self.write(write.records, write.failures))

    def write(self, records: Sequence[AcceptedRecord], failures: Sequence[FailureRecord]) -> WriteReport:
        """Fail with StoreUnavailable while down; otherwise write through."""
        if self.down:
            self.failed_writes += 1
            raise StoreUnavailable("SQLite: database is locked (simulated outage)")
        return self.store.write(records, failures)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def readyz(port: int) -> tuple[int, dict[str, Any]]:
    """GET /readyz: status code and JSON body."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


def messages(count: int) -> list[Msg]:
    """``count`` valid shipments with distinct ids."""
    return [
        Msg(
            json.dumps(
                {"shipment_id": f"OUT-{n}", "weight_kg": 1, "destination": "Cork", "priority": 1}
            ).encode()
        )
        for n in range(count)
    ]


def test_a_store_outage_commits_nothing_then_recovers_losing_nothing(
    kafka: Kafka, group: str, store: SqliteStore, store_path: Path, make_worker: WorkerFactory
) -> None:
    """While writes fail: not ready, retries logged, no offset committed; once back: all stored, committed."""
    topic = kafka.topic("outage", partitions=2)
    ends = ends_of(kafka.produce(topic, messages(60)))
    flaky, health = FlakyStore(store), Health()
    worker = make_worker(flaky, health, routes={topic: ("shipment", "1")}, batch_size=25)
    with (
        capture_logs() as logs,
        HealthServer(health, "127.0.0.1", 0) as server,
        WorkerThread(worker) as thread,
    ):
        thread.until(lambda: flaky.failed_writes >= 3, 30, "three failed writes")
        status, body = readyz(server.port)
        assert (status, body["status"]) == (503, "not_ready")
        assert "simulated outage" in body["reason"]
        assert kafka.committed(group) == {}
        assert StoreReader(store_path).count() == 0
        flaky.down = False
        thread.until(lambda: worker.source.committed == ends, 30, "every message stored and committed")
        status, body = readyz(server.port)
        assert (status, body["status"], body["contracts"]) == (200, "ready", example_count())
        assert "reason" not in body
        stats = thread.stop()
    assert store.stats().accepted_total == 60
    assert kafka.committed(group) == ends
    assert stats.retries >= 3
    assert (stats.accepted, stats.failed) == (60, 0)
    retries = [entry for entry in logs if entry["event"] == "batch not stored; retrying"]
    assert retries
    assert retries[0]["log_level"] == "error"
    assert "simulated outage" in retries[0]["error"]


def test_a_stop_during_an_outage_commits_nothing_and_a_later_worker_stores_all(
    kafka: Kafka, group: str, store: SqliteStore, make_worker: WorkerFactory
) -> None:
    """Stopping while the store is down leaves the batch uncommitted; the next worker stores every message."""
    topic = kafka.topic("outage-stop")
    ends = ends_of(kafka.produce(topic, messages(30)))
    flaky = FlakyStore(store)
    with WorkerThread(make_worker(flaky, routes={topic: ("shipment", "1")})) as thread:
        thread.until(lambda: flaky.failed_writes >= 2, 30, "two failed writes")
        stats = thread.stop()
    assert (stats.batches, stats.messages) == (0, 0)
    assert kafka.committed(group) == {}
    assert store.stats().accepted_total == 0
    healthy = make_worker(store, routes={topic: ("shipment", "1")})
    with WorkerThread(healthy) as thread:
        thread.until(lambda: healthy.source.committed == ends, 30, "every message stored and committed")
        stats = thread.stop()
    assert (store.stats().accepted_total, stats.accepted) == (30, 30)
