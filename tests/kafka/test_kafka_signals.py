"""``sigma-aetl worker`` as a real process: SIGTERM and SIGINT stop it gracefully, with exit code 0, after
the batch in hand is stored and committed; health endpoints answer while it runs.
"""

import json
import signal
import urllib.request
from collections import defaultdict
from pathlib import Path

from kafka_support import Kafka, Msg, StoreReader, WorkerProcess, ends_of, example_count, free_port
from sigma_aetl.contracts.registry import Registry
from sigma_aetl.testing import wait_until


def shipments(count: int) -> list[Msg]:
    """Valid shipments with distinct ids."""
    body = {"weight_kg": 1, "destination": "Cork", "priority": 1}
    return [Msg(json.dumps({"shipment_id": f"SIG-{n}", **body}).encode()) for n in range(count)]


def worker_args(kafka: Kafka, group: str, topic: str, *more: str) -> list[str]:
    """Command-line options for a worker on ``topic`` routed to shipment@1."""
    return ["--bootstrap-servers", kafka.bootstrap, "--group", group, "--route", f"{topic}=shipment@1", *more]


def stored_offsets(reader: StoreReader) -> dict[tuple[str, int], list[int]]:
    """The offsets stored per partition, sorted."""
    found: dict[tuple[str, int], list[int]] = defaultdict(list)
    for _, (topic, partition, offset) in reader.coordinates():
        found[(topic, partition)].append(offset)
    return {where: sorted(offsets) for where, offsets in found.items()}


def get(port: int, path: str) -> tuple[int, bytes]:
    """GET a health endpoint: status and body."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
        return response.status, response.read()


def test_sigterm_mid_stream_commits_exactly_what_is_stored_and_exits_0(
    kafka: Kafka, group: str, tmp_path: Path
) -> None:
    """SIGTERM while consuming: exit 0, and per partition the stored offsets are exactly those committed;
    a restarted worker then finishes the topic and exits 0 with everything committed."""
    topic = kafka.topic("sigterm", partitions=2)
    ends = ends_of(kafka.produce(topic, shipments(3000)))
    store, reader = tmp_path / "store.db", StoreReader(tmp_path / "store.db")
    args = worker_args(kafka, group, topic, "--batch-size", "50")
    first = WorkerProcess(store, args, tmp_path / "first.log")
    wait_until(lambda: reader.count() > 0, 60, "the first stored batch")
    first.signal(signal.SIGTERM)
    assert first.wait(30) == 0, first.log.read_text()
    committed = kafka.committed(group)
    assert stored_offsets(reader) == {where: list(range(offset)) for where, offset in committed.items()}
    assert first.events("stopping; every stored batch is committed")[0]["reason"] == "SIGTERM"
    second = WorkerProcess(store, args, tmp_path / "second.log")
    wait_until(lambda: reader.count() == 3000, 60, "all 3000 stored")
    wait_until(lambda: kafka.committed(group) == ends, 30, "all offsets committed")
    second.signal(signal.SIGTERM)
    assert second.wait(30) == 0, second.log.read_text()
    assert stored_offsets(reader) == {where: list(range(offset)) for where, offset in ends.items()}
    (stopped,) = second.events("worker stopped")
    assert stopped["duplicates"] == 0


def test_sigint_stops_an_idle_worker_that_answered_its_health_checks(
    kafka: Kafka, group: str, tmp_path: Path, registry: Registry
) -> None:
    """With --health-port, /healthz and /readyz answer 200 while it consumes; SIGINT then exits 0."""
    topic = kafka.topic("sigint")
    ends = ends_of(kafka.produce(topic, shipments(5)))
    port = free_port()
    args = worker_args(kafka, group, topic, "--health-port", str(port))
    worker = WorkerProcess(tmp_path / "store.db", args, tmp_path / "worker.log")
    wait_until(lambda: kafka.committed(group) == ends, 60, "all offsets committed")
    assert get(port, "/healthz") == (200, b'{"status":"ok"}')
    status, body = get(port, "/readyz")
    assert (status, json.loads(body)) == (
        200,
        {"status": "ready", "contracts": example_count(), "registry": registry.digest},
    )
    worker.signal(signal.SIGINT)
    assert worker.wait(30) == 0, worker.log.read_text()
    (stopped,) = worker.events("worker stopped")
    assert (stopped["accepted"], stopped["messages"]) == (5, 5)
