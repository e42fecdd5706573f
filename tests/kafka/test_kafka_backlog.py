"""A backlog, against a real broker: the next batch is fetched while the last write of the one before is
in flight, and still each batch is committed only once all of it is stored, in the order fetched.
"""

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kafka_support import Kafka, Msg, StoreReader, WorkerThread, ends_of, kafka_config
from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core.envelope import Envelope
from sigma_aetl.ingest.pipeline import Pipeline
from sigma_aetl.kafka.message import next_offsets
from sigma_aetl.kafka.source import KafkaSource
from sigma_aetl.kafka.worker import Worker
from sigma_aetl.stores.base import PendingWrite, StagedWrite, WriteReport
from sigma_aetl.stores.sqlite.store import SqliteStore

Log = list[tuple[str, Any]]


class LoggedWrite:
    """A write in flight whose ``result()`` is logged once it returns."""

    def __init__(self, pending: PendingWrite, log: Log) -> None:
        self.pending = pending
        self.log = log

    def result(self) -> WriteReport:
        """The write's report, logged as ``landed``."""
        report = self.pending.result()
        self.log.append(("landed", None))
        return report

    def fileno(self) -> int | None:
        """The store's descriptor to wait on."""
        return self.pending.fileno()


class LoggedStore(SqliteStore):
    """A real SQLite store (its writer process) logging when each write starts and lands."""

    def __init__(self, path: Path, log: Log) -> None:
        super().__init__(path, writer="process")
        self.log = log

    def submit(self, write: StagedWrite) -> PendingWrite:
        """Start the write, logged as ``submitted``."""
        self.log.append(("submitted", len(write.records) + len(write.failures)))
        return LoggedWrite(super().submit(write), self.log)


class LoggedSource(KafkaSource):
    """A real consumer logging each poll (its timeout) and each commit (the offsets it acks)."""

    def __init__(self, config: Any, log: Log) -> None:
        super().__init__(config)
        self.log = log

    def poll(self, timeout: float | None = None) -> list[Envelope]:
        """Consume, logged as ``polled`` with the timeout asked and the messages returned."""
        batch = super().poll(timeout)
        self.log.append(("polled", (timeout, len(batch))))
        return batch

    def ack(self, batch: Sequence[Envelope]) -> None:
        """Commit, logged as ``acked`` with the batch's next offsets."""
        self.log.append(("acked", next_offsets(batch)))
        super().ack(batch)


def test_a_backlog_is_fetched_beside_the_write_and_committed_in_order(
    kafka: Kafka, group: str, registry: Registry, tmp_path: Path
) -> None:
    """With 12 batches waiting, the worker polls without waiting while a write is in flight; every batch
    is acked after its last write landed, in offset order, and every message is stored once."""
    topic = kafka.topic("backlog")
    fields = {"weight_kg": 1.5, "destination": "Cork", "priority": 1}
    events = [json.dumps({**fields, "shipment_id": f"B-{n}"}).encode() for n in range(600)]
    produced = kafka.produce(topic, [Msg(value) for value in events])
    log: Log = []
    store = LoggedStore(tmp_path / "backlog.db", log)
    config = kafka_config(kafka, group, routes={topic: ("shipment", "1")}, batch_size=50)
    source = LoggedSource(config, log)
    pipeline = Pipeline(registry, store, transaction_size=20)
    try:
        with WorkerThread(Worker(pipeline, source)) as thread:
            thread.until(lambda: source.committed == ends_of(produced), 60, "the backlog committed")
            thread.stop()
        in_flight = False
        overlapped = 0
        for event, detail in log:
            in_flight = event == "submitted" or (in_flight and event != "landed")
            if event == "polled" and in_flight:
                assert detail[0] == 0  # beside a write, a poll takes only what was fetched
                overlapped += detail[1] > 0
            if event == "acked":
                assert not in_flight  # the batch's last write has landed
        assert overlapped > 0
        acked = [detail[(topic, 0)] for event, detail in log if event == "acked"]
        assert acked == sorted(acked)
        assert acked[-1] == len(events)
        stored = [where for _, where in StoreReader(tmp_path / "backlog.db").coordinates()]
        assert sorted(stored) == sorted(produced)
    finally:
        store.close()
