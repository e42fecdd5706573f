"""The crash test: a real worker process SIGKILLed at random moments, restarted each time, and at the end
exactly one stored decision per produced message — none lost, none twice.

The seed of the random kill moments is printed (and taken from CRASH_TEST_SEED when set), so a failing
run can be replayed. The test runs twice: with dynamic membership and the eager range assignor (every
start is a new member, which waits for the dead one's session to time out), and with static membership
(a ``group.instance.id``) and cooperative-sticky assignment; each prints the seconds from every kill to
the restarted worker's first assigned partitions.
"""

import json
import os
import random
import signal
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from kafka_support import (
    Coordinates,
    Kafka,
    Msg,
    Output,
    StoreReader,
    WorkerProcess,
    ends_of,
)
from log_support import log_events
from sigma_aetl.testing import wait_until

TOTAL = 20_000
DEBUG = {"SIGMA_AETL_LOG_LEVEL": "debug"}  # a "batch stored" line per batch, with its duplicates
PARTITIONS = 4
KILL_WINDOWS = [(0.05, 0.2), (0.25, 0.45), (0.5, 0.7), (0.75, 0.9)]
"""Each kill happens once the store holds a random fraction of the messages, drawn from its window."""
INVALID = [
    b'{"shipment_id": "X", "weight_kg": 1, "destination": "Cork"}',
    b'{"shipment_id": "X", "weight_kg": -5, "destination": "Cork", "priority": 1}',
    b'{"shipment_id": "X", "weight_kg": 1, "destination": "Cork", "priority": "2"}',
    b'{"shipment_id": "X", "weight_kg": 1500, "destination": "Cork", "priority": 1}',
    b'{"shipment_id": "X", "weight_kg": 1, "destination": "Cork", "priority": 1, "colour": "red"}',
]
MALFORMED = [b'{"shipment_id": ', b'{"shipment_id": "\xff\xfe"}', b"not json at all", b""]
SCHEMA_CAUSES = {
    "missing_field",
    "constraint_violation",
    "type_mismatch",
    "business_rule_violation",
    "unexpected_field",
}
TRANSPORT_CAUSES = {"malformed_json", "invalid_encoding"}
MEMBERSHIPS = {
    "dynamic-eager": {"SIGMA_AETL_KAFKA_ASSIGNMENT_STRATEGY": "range"},
    "static-cooperative": {
        "SIGMA_AETL_KAFKA_GROUP_INSTANCE_ID": "crash-worker-0",
        "SIGMA_AETL_KAFKA_ASSIGNMENT_STRATEGY": "cooperative-sticky",
    },
}
"""Group membership before (a new member per start) and after (static membership) issue 18."""


def event(number: int) -> tuple[str, bytes]:
    """Message ``number``: 70% valid (each its own shipment), 20% invalid, 10% malformed bytes."""
    kind = number % 10
    if kind < 7:
        body = {"shipment_id": f"CRASH-{number:05d}", "weight_kg": 1 + number % 50, "destination": "Cork"}
        return "valid", json.dumps({**body, "priority": 1 + number % 3}).encode()
    if kind < 9:
        return "invalid", INVALID[number % len(INVALID)]
    return "malformed", MALFORMED[number % len(MALFORMED)]


@pytest.mark.slow
@pytest.mark.parametrize("membership", MEMBERSHIPS)
def test_sigkilled_worker_restarted_stores_exactly_one_decision_per_message(
    kafka: Kafka, group: str, tmp_path: Path, membership: str
) -> None:
    """20,000 messages, a worker SIGKILLed four times at random moments and restarted: at the end every
    message maps to exactly one stored record or failure, matching what it was, and every stored record
    reached its output topic at least once, with either group membership."""
    env = {**DEBUG, **MEMBERSHIPS[membership]}
    seed = int(os.environ.get("CRASH_TEST_SEED", time.time_ns() % 1_000_000))
    print(f"crash test seed: {seed}")
    rng = random.Random(seed)
    topic = kafka.topic("crash", partitions=PARTITIONS)
    events = [event(number) for number in range(TOTAL)]
    produced = kafka.produce(topic, [Msg(raw, key=f"k{n}".encode()) for n, (_, raw) in enumerate(events)])
    expected = dict(zip(produced, events, strict=True))
    store, reader = tmp_path / "store.db", StoreReader(tmp_path / "store.db")
    args = ["--bootstrap-servers", kafka.bootstrap, "--group", group, "--route", f"{topic}=shipment@1"]
    args += ["--batch-size", "100", "--batch-timeout", "0.2"]
    # Output topics widen the window between the store write and the commit (read back, produce, flush),
    # so kills often land in it: those batches are stored again after the restart, writing nothing new.
    accepted, failed = kafka.topic("crash-accepted"), kafka.topic("crash-failed")
    args += ["--accepted-topic", accepted, "--failed-topic", failed]
    kills, killed_at = [], []
    for run, (low, high) in enumerate(KILL_WINDOWS):
        threshold = int(TOTAL * rng.uniform(low, high))
        worker = WorkerProcess(store, args, tmp_path / f"run-{run}.log", env)
        wait_until(reader.holds(threshold), 120, f"{threshold} stored (seed {seed})", poll=0.01)
        # part of the scenario, not a wait for something: a random extra moment moves the kill off the
        # poll tick, into a write or between a write and its commit
        time.sleep(rng.uniform(0, 0.05))
        worker.kill()
        killed_at.append(time.time())
        kills.append(reader.count())
    print(f"stored when killed: {kills}")
    assert all(0 < stored < TOTAL for stored in kills), f"a kill was not mid-stream: {kills} (seed {seed})"
    final = WorkerProcess(store, args, tmp_path / "final.log", env)
    wait_until(reader.holds(TOTAL), 120, f"all {TOTAL} stored (seed {seed})")
    wait_until(lambda: kafka.committed(group) == ends_of(produced), 60, "all offsets committed")
    final.signal(signal.SIGTERM)
    assert final.wait(30) == 0, final.log.read_text()[-3000:]
    (stopped,) = final.events("worker stopped")
    print(f"final run: {stopped}")
    print(f"messages stored again after a kill (redelivered, nothing new written): {redelivered(tmp_path)}")
    restarted = [tmp_path / f"run-{run}.log" for run in range(1, len(KILL_WINDOWS))] + [final.log]
    gaps = [f"{assigned_after(log) - at:.1f}" for at, log in zip(killed_at, restarted, strict=True)]
    print(f"{membership}: seconds from each kill to the restarted worker's partitions: {', '.join(gaps)}")
    check_one_decision_per_message(reader, expected)
    record_ids, failure_ids = reader.ids()
    for topic_out, ids in ((accepted, record_ids), (failed, failure_ids)):
        keys = {key for key, _, _ in kafka.read(topic_out, keys_include(ids))}
        assert keys == ids, f"{topic_out}: keys that are no stored record"


def keys_include(ids: set[str]) -> Callable[[list[Output]], bool]:
    """A condition on the messages read back from a topic: their keys include every one of ``ids``."""
    return lambda found: {key for key, _, _ in found} >= ids


def check_one_decision_per_message(
    reader: StoreReader, expected: dict[Coordinates, tuple[str, bytes]]
) -> None:
    """Counts add up, no message has two stored decisions, none has none, and each matches its kind."""
    rows = reader.coordinates()
    stored = [where for _, where in rows]
    assert len(stored) == TOTAL, f"{len(stored)} stored decisions for {TOTAL} messages"
    assert len(set(stored)) == TOTAL, "a message has two stored decisions"
    assert set(stored) == set(expected), "a stored decision is for no produced message, or one is missing"
    kinds = {where: kind for kind, where in rows}
    docs = reader.docs()
    for where, (kind, raw) in expected.items():
        doc = docs[where]
        assert doc["raw"]["size"] == len(raw)
        if kind == "valid":
            assert kinds[where] == "record"
            assert doc["data"]["shipment_id"] == json.loads(raw)["shipment_id"]
        else:
            assert kinds[where] == "failure"
            assert doc["root_cause"] in (SCHEMA_CAUSES if kind == "invalid" else TRANSPORT_CAUSES)
    accepted = sum(kind == "record" for kind, _ in rows)
    assert (accepted, len(rows) - accepted) == (14_000, 6_000)


def assigned_after(log: Path) -> float:
    """When (epoch seconds) the worker that wrote ``log`` was first assigned partitions."""
    for line in log_events(log, "partitions assigned"):
        if line["partitions"]:
            return datetime.fromisoformat(line["timestamp"]).timestamp()
    raise AssertionError(f"{log.name}: no partitions were assigned")


def redelivered(logs: Path) -> int:
    """Duplicates in every run's "batch stored" lines: messages stored, then killed before the commit."""
    batches = [event for log in logs.glob("*.log") for event in log_events(log, "batch stored")]
    return sum(int(event["duplicates"]) for event in batches)
