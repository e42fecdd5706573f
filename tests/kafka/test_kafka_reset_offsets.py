"""Re-consuming Kafka with ``sigma-aetl kafka reset-offsets``, against a real broker: the group moves back
to the earliest offset, an offset or a time; consumed again, every message is a duplicate, nothing new."""

import json
import signal
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from kafka_support import Kafka, Msg, WorkerFactory, WorkerProcess, WorkerThread, ends_of, run_to_end
from sigma_aetl.cli.app import app
from sigma_aetl.stores.sqlite.store import SqliteStore
from sigma_aetl.testing import INVALID_SHIPMENT, wait_until


def shipments(prefix: str, count: int) -> list[Msg]:
    """Valid shipments with distinct ids over two partitions, every fifth one invalid."""
    found = []
    for n in range(count):
        body = {"shipment_id": f"{prefix}-{n}", "weight_kg": 1, "destination": "Cork", "priority": 1}
        value = INVALID_SHIPMENT if n % 5 == 4 else json.dumps(body).encode()
        found.append(Msg(value, partition=n % 2))
    return found


def reset(kafka: Kafka, group: str, topic: str, *target: str, code: int = 0) -> dict[str, Any]:
    """Run ``sigma-aetl kafka reset-offsets`` in-process; check its exit code; its JSON report (or {})."""
    argv = ["kafka", "reset-offsets", "--bootstrap-servers", kafka.bootstrap, "--group", group]
    result = CliRunner().invoke(app, [*argv, "--topic", topic, *target, "--json"])
    assert result.exit_code == code, result.output
    report: dict[str, Any] = json.loads(result.stdout) if code == 0 else {"error": result.output}
    return report


def test_reset_to_earliest_and_to_a_time_writes_nothing_new(
    kafka: Kafka, group: str, store: SqliteStore, make_worker: WorkerFactory
) -> None:
    """Reset to the earliest offset, then to a time, the worker consumes again: duplicates only."""
    topic = kafka.topic("reconsume", partitions=2)
    first = kafka.produce(topic, shipments("A", 20))
    time.sleep(0.05)
    between = datetime.now(UTC)
    time.sleep(0.05)
    later = kafka.produce(topic, shipments("B", 10))
    ends = ends_of(first + later)
    routes = {topic: ("shipment", "1")}
    run = run_to_end(make_worker(store, routes=routes), ends)
    assert (run.accepted, run.failed, run.duplicates) == (24, 6, 0)
    before = store.stats()

    report = reset(kafka, group, topic, "--to-earliest")
    assert [(row["partition"], row["before"], row["after"]) for row in report["partitions"]] == [
        (0, ends[(topic, 0)], 0),
        (1, ends[(topic, 1)], 0),
    ]
    assert kafka.committed(group) == dict.fromkeys(ends, 0)
    again = run_to_end(make_worker(store, routes=routes), ends)
    assert (again.messages, again.duplicates, again.accepted, again.failed) == (30, 30, 0, 0)
    assert store.stats() == before

    report = reset(kafka, group, topic, "--to-datetime", between.isoformat())
    starts = {partition: min(o for t, p, o in later if p == partition) for partition in (0, 1)}
    assert {row["partition"]: row["after"] for row in report["partitions"]} == starts
    since = run_to_end(make_worker(store, routes=routes), ends)
    assert (since.messages, since.duplicates, since.accepted, since.failed) == (10, 10, 0, 0)
    assert store.stats() == before


def test_one_partition_to_an_offset_and_a_dry_run(
    kafka: Kafka, group: str, store: SqliteStore, make_worker: WorkerFactory
) -> None:
    """``--to-offset`` with ``--partition`` moves only that partition; ``--dry-run`` commits nothing."""
    topic = kafka.topic("reconsume", partitions=2)
    ends = ends_of(kafka.produce(topic, shipments("C", 10)))
    run_to_end(make_worker(store, routes={topic: ("shipment", "1")}), ends)
    dry = reset(kafka, group, topic, "--to-earliest", "--dry-run")
    assert not dry["applied"]
    assert kafka.committed(group) == ends
    moved = reset(kafka, group, topic, "--to-offset", "2", "--partition", "1")
    assert [(row["partition"], row["after"]) for row in moved["partitions"]] == [(1, 2)]
    assert kafka.committed(group) == {**ends, (topic, 1): 2}
    worker = make_worker(store, routes={topic: ("shipment", "1")})
    with WorkerThread(worker) as thread:  # only partition 1 has anything to consume, and so to commit
        thread.until(lambda: worker.source.committed == {(topic, 1): ends[(topic, 1)]}, 30, "partition 1")
        again = thread.stop()
    assert (again.messages, again.duplicates) == (ends[(topic, 1)] - 2, ends[(topic, 1)] - 2)


def test_an_active_group_is_refused(
    kafka: Kafka, group: str, store: SqliteStore, make_worker: WorkerFactory
) -> None:
    """While a worker of the group runs, a reset is refused (exit 2) and the offsets stay as committed."""
    topic = kafka.topic("reconsume", partitions=2)
    ends = ends_of(kafka.produce(topic, shipments("D", 4)))
    worker = make_worker(store, routes={topic: ("shipment", "1")})
    with WorkerThread(worker) as thread:
        thread.until(lambda: worker.source.committed == ends, 30, "every message stored and committed")
        refused = reset(kafka, group, topic, "--to-earliest", code=2)
        thread.stop()
    assert "has active members" in refused["error"]
    assert kafka.committed(group) == ends


def test_exactly_one_target_and_a_known_topic(kafka: Kafka, group: str) -> None:
    """No target, two targets, or an unknown topic are refused with exit 2 and a clear message."""
    topic = kafka.topic("reconsume")
    assert "exactly one of" in reset(kafka, group, topic, code=2)["error"]
    assert (
        "exactly one of" in reset(kafka, group, topic, "--to-earliest", "--to-offset", "1", code=2)["error"]
    )
    assert "does not exist" in reset(kafka, group, f"{topic}-none", "--to-earliest", code=2)["error"]


def test_real_workers_count_the_duplicates_in_their_log(kafka: Kafka, group: str, tmp_path: Path) -> None:
    """As real processes: after a reset, the worker's ``worker stopped`` line counts every message as a
    duplicate, and ``stats`` (the object ``GET /v1/stats`` serves) is unchanged."""
    topic = kafka.topic("reconsume", partitions=2)
    ends = ends_of(kafka.produce(topic, shipments("E", 12)))
    store = tmp_path / "store.db"
    args = ["--bootstrap-servers", kafka.bootstrap, "--group", group, "--route", f"{topic}=shipment@1"]

    def consume(name: str) -> dict[str, Any]:
        worker = WorkerProcess(store, args, tmp_path / f"{name}.log")
        wait_until(lambda: kafka.committed(group) == ends, 60, f"{name}: every offset committed")
        worker.signal(signal.SIGTERM)
        assert worker.wait(30) == 0, worker.log.read_text()
        (stopped,) = worker.events("worker stopped")
        return stopped

    def stats() -> dict[str, Any]:
        result = CliRunner().invoke(app, ["--store", f"sqlite:///{store}", "stats", "--json"])
        assert result.exit_code == 0, result.output
        found: dict[str, Any] = json.loads(result.stdout)
        return found

    first = consume("first")
    assert (first["accepted"], first["failed"], first["duplicates"]) == (10, 2, 0)
    before = stats()
    reset(kafka, group, topic, "--to-earliest")
    again = consume("again")
    assert (again["messages"], again["duplicates"], again["accepted"], again["failed"]) == (12, 12, 0, 0)
    assert stats() == before


def test_a_group_never_used_can_be_placed(kafka: Kafka, group: str) -> None:
    """A group with no member and no commit yet is reset like any idle one: it had no offsets before."""
    topic = kafka.topic("reconsume", partitions=2)
    kafka.produce(topic, shipments("F", 4))
    report = reset(kafka, f"{group}-new", topic, "--to-offset", "1")
    assert [(row["partition"], row["before"], row["after"]) for row in report["partitions"]] == [
        (0, None, 1),
        (1, None, 1),
    ]
    assert kafka.committed(f"{group}-new") == {(topic, 0): 1, (topic, 1): 1}
