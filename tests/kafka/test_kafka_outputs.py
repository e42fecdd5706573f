"""Output topics, against a real broker: stored records are produced keyed by their ids, at least once."""

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

from kafka_support import Kafka, Msg, Output, WorkerFactory, ends_of, run_to_end
from sigma_aetl.core import serial
from sigma_aetl.core.records import AcceptedRecord, FailureRecord
from sigma_aetl.stores.sqlite.store import SqliteStore
from sigma_aetl.testing import INVALID_SHIPMENT, TRUNCATED


def shipment(number: int) -> bytes:
    """A valid shipment with a distinct id."""
    return json.dumps(
        {"shipment_id": f"OUT-{number}", "weight_kg": 1, "destination": "Cork", "priority": 1}
    ).encode()


def test_stored_records_are_produced_keyed_by_id_and_again_on_replay(
    kafka: Kafka, group: str, store: SqliteStore, make_worker: WorkerFactory
) -> None:
    """Accepted and failure records go to their topics as stored JSON keyed by id; a replay re-sends them
    under the same keys (at-least-once downstream)."""
    topic, accepted, failed = kafka.topic("in"), kafka.topic("accepted"), kafka.topic("failed")
    events = [Msg(shipment(n)) for n in range(8)] + [Msg(INVALID_SHIPMENT), Msg(TRUNCATED), Msg(shipment(0))]
    ends = ends_of(kafka.produce(topic, events))
    options: dict[str, Any] = {"routes": {topic: ("shipment", "1")}, "accepted_topic": accepted}
    options["failed_topic"] = failed
    for run_group in (group, f"{group}-replay"):
        run_to_end(make_worker(store, group=run_group, **options), ends)
    stats = store.stats()
    assert (stats.accepted_total, stats.failures_total) == (8, 2)
    records = kafka.read(accepted, twice(8))
    failures = kafka.read(failed, twice(2))
    for key, value, headers in records:
        assert serial.loads(AcceptedRecord, value) == store.get_record(key)
        assert headers == {"sigma-kind": b"accepted"}
    for key, value, headers in failures:
        assert serial.loads(FailureRecord, value) == store.get_failure(key)
        assert headers == {"sigma-kind": b"failure"}


def twice(distinct: int) -> Callable[[list[Output]], bool]:
    """Done once ``distinct`` keys were each seen at least twice (once per run), and no other key."""

    def done(found: list[Output]) -> bool:
        counts = Counter(key for key, _, _ in found)
        return len(counts) >= distinct and min(counts.values()) >= 2

    return done
