"""Scaling out: two worker processes in one consumer group share a topic's partitions and, together,
store each message exactly once (one SQLite file serves workers on one machine).
"""

import json
import signal
from pathlib import Path

import pytest

from kafka_support import Kafka, Msg, StoreReader, WorkerProcess, ends_of
from sigma_aetl.testing import wait_until

PARTITIONS = 4
TOTAL = 4000


def owned(worker: WorkerProcess) -> set[tuple[str, int]]:
    """The partitions a worker owns now, replayed from its assignment and revocation log lines."""
    current: set[tuple[str, int]] = set()
    for event in worker.events():
        change = {tuple(item) for item in event.get("partitions", [])}
        if event.get("event") == "partitions assigned":
            current |= change
        elif str(event.get("event")).startswith(("partitions revoked", "partitions lost")):
            current -= change
    return current


@pytest.mark.slow
def test_two_workers_share_the_partitions_and_store_each_message_once(
    kafka: Kafka, group: str, tmp_path: Path
) -> None:
    """Both workers own partitions at once; all messages are stored once; both exit 0 on SIGTERM."""
    topic = kafka.topic("scale", partitions=PARTITIONS)
    store, reader = tmp_path / "store.db", StoreReader(tmp_path / "store.db")
    args = ["--bootstrap-servers", kafka.bootstrap, "--group", group, "--route", f"{topic}=shipment@1"]
    args += ["--batch-size", "200"]
    workers = [WorkerProcess(store, args, tmp_path / f"worker-{n}.log") for n in range(2)]
    everything = {(topic, partition) for partition in range(PARTITIONS)}

    def shared() -> bool:
        mine, theirs = (owned(worker) for worker in workers)
        return bool(mine) and bool(theirs) and not mine & theirs and mine | theirs == everything

    def logs() -> str:
        return "\n".join(f"{w.log.name}: {w.log.read_text()[-1500:]}" for w in workers)

    wait_until(shared, 60, "both workers to own partitions", poll=0.2, detail=logs)
    body = {"weight_kg": 1, "destination": "Cork", "priority": 1}
    events = [Msg(json.dumps({"shipment_id": f"SCALE-{n}", **body}).encode()) for n in range(TOTAL)]
    ends = ends_of(kafka.produce(topic, events))
    wait_until(lambda: kafka.committed(group) == ends, 60, "all offsets committed")
    for worker in workers:
        worker.signal(signal.SIGTERM)
    for worker in workers:
        assert worker.wait(30) == 0, worker.log.read_text()[-3000:]
    stopped = [worker.events("worker stopped")[0] for worker in workers]
    assert all(int(summary["messages"]) > 0 for summary in stopped), stopped
    stored = [where for _, where in reader.coordinates()]
    assert len(stored) == len(set(stored)) == TOTAL
    assert sum(int(summary["accepted"]) for summary in stopped) == TOTAL
