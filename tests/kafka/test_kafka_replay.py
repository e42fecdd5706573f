"""Replay, against a real broker: consuming the same messages again writes nothing new."""

import json

from kafka_support import Kafka, Msg, WorkerFactory, ends_of, run_to_end
from sigma_aetl.stores.sqlite.store import SqliteStore
from sigma_aetl.testing import INVALID_UTF8, STRING_PRIORITY


def events(count: int) -> list[Msg]:
    """Valid shipments with distinct ids, one invalid and one malformed event in every ten."""
    found = []
    for n in range(count):
        body = {"shipment_id": f"RE-{n}", "weight_kg": 1, "destination": "Cork", "priority": 1}
        found.append(
            Msg(
                STRING_PRIORITY if n % 10 == 8 else INVALID_UTF8 if n % 10 == 9 else json.dumps(body).encode()
            )
        )
    return found


def test_resetting_the_group_offsets_or_a_new_group_writes_nothing_new(
    kafka: Kafka, group: str, store: SqliteStore, make_worker: WorkerFactory
) -> None:
    """After offsets go back to the beginning (or a new group starts), every outcome is a duplicate."""
    topic = kafka.topic("replay", partitions=3)
    ends = ends_of(kafka.produce(topic, events(300)))
    routes = {topic: ("shipment", "1")}
    first = run_to_end(make_worker(store, routes=routes), ends)
    assert (first.accepted, first.failed, first.duplicates) == (240, 60, 0)
    before = store.stats()
    kafka.reset_offsets(group, ends)
    assert kafka.committed(group) == dict.fromkeys(ends, 0)
    for replay_group in (group, f"{group}-new"):
        replay = run_to_end(make_worker(store, routes=routes, group=replay_group), ends)
        assert (replay.messages, replay.duplicates) == (300, 300)
        assert (replay.accepted, replay.failed) == (0, 0)
        assert store.stats() == before
