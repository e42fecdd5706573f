"""The worker's /readyz means it can work: contracts loaded, the store answering, a broker that answered
recently and the group's partitions assigned. Not ready while no broker answers, nor after the broker goes
away; a health port in use stops the worker before it creates anything."""

import json
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kafka_support import (
    CONTRACTS,
    Kafka,
    Msg,
    Tansu,
    WorkerFactory,
    WorkerThread,
    example_count,
    free_port,
    worker_env,
)
from sigma_aetl.core.envelope import Envelope
from sigma_aetl.kafka.health import Health, HealthServer
from sigma_aetl.stores.sqlite.store import SqliteStore
from sigma_aetl.testing import VALID_SHIPMENT, wait_until


def readyz(port: int) -> tuple[int, dict[str, Any]] | None:
    """GET /readyz: status code and JSON body; None while the port does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())
    except urllib.error.URLError:
        return None


def worker_command(store: Path, *args: str) -> list[str]:
    """``python -m sigma_aetl worker`` on a SQLite file and the repository's contracts."""
    program = [
        sys.executable,
        "-m",
        "sigma_aetl",
        "--store",
        f"sqlite:///{store}",
        "--contracts",
        str(CONTRACTS),
    ]
    return [*program, "worker", *args]


def test_no_broker_is_not_ready_and_says_why(tmp_path: Path) -> None:
    """Pointed at a port where no broker listens, the worker answers 503 naming the broker, with its
    contracts loaded; SIGTERM still stops it promptly with exit code 0."""
    nowhere, port = free_port(), free_port()
    args = ["--bootstrap-servers", f"127.0.0.1:{nowhere}", "--topic", "events", "--health-port", str(port)]
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            worker_command(tmp_path / "s.db", *args), stdout=out, stderr=out, env=worker_env()
        )
    try:
        wait_until(lambda: _refused_broker(port), 30, "readyz to say no broker answered")
        answer = readyz(port)
        assert answer is not None
        status, body = answer
        assert (status, body["status"], body["contracts"]) == (503, "not_ready", example_count())
        assert f"127.0.0.1:{nowhere}" in body["reason"]
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0, log.read_text()
        assert time.monotonic() - started < 10
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _refused_broker(port: int) -> bool:
    answer = readyz(port)
    return answer is not None and "no Kafka broker answered" in answer[1].get("reason", "")


def test_ready_only_once_a_broker_answered_and_not_after_it_went_away(
    tmp_path: Path, store: SqliteStore, make_worker: WorkerFactory
) -> None:
    """Against a real broker the worker becomes ready once its partitions are assigned; when the broker
    dies it becomes not ready within seconds, and says the broker does not answer."""
    broker = Tansu.start(tmp_path)
    try:
        kafka = Kafka(broker.bootstrap)
        topic = kafka.topic("readiness")
        kafka.produce(topic, [Msg(VALID_SHIPMENT)])
        health = Health()
        routes = {topic: ("shipment", "1")}
        worker = make_worker(store, health, bootstrap_servers=broker.bootstrap, routes=routes)
        with HealthServer(health, "127.0.0.1", 0) as server, WorkerThread(worker) as thread:
            thread.until(lambda: _status(server.port) == 200, 60, "ready")
            assert worker.source.joined
            thread.until(lambda: store.stats().accepted_total == 1, 30, "the message stored")
            broker.stop()
            # the first reason may be the group's (the session timed out); the probe then names the broker
            seen = Answers(server.port)
            thread.until(seen.refused_broker, 30, "not ready, naming the broker", seen.told)
            assert _status(server.port) == 503
            thread.stop()
    finally:
        broker.stop()


class Answers:
    """The /readyz answers of one port, each change kept with its time, for a timeout to tell."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.began = time.monotonic()
        self.changes: list[tuple[float, int | None, str | None]] = []

    def refused_broker(self) -> bool:
        """Whether /readyz now says no Kafka broker answered (the change, if any, kept)."""
        answer = readyz(self.port)
        status, reason = (None, None) if answer is None else (answer[0], answer[1].get("reason"))
        if not self.changes or self.changes[-1][1:] != (status, reason):
            self.changes.append((time.monotonic() - self.began, status, reason))
        return reason is not None and "no Kafka broker answered" in reason

    def told(self) -> str:
        """Each answer that changed, with its seconds since the watch began."""
        return "\n".join(f"+{at:.1f} s: {status} {reason}" for at, status, reason in self.changes)


def _status(port: int) -> int | None:
    answer = readyz(port)
    return None if answer is None else answer[0]


def test_a_health_port_in_use_stops_the_worker_before_it_creates_anything(tmp_path: Path) -> None:
    """With its health port held, the worker exits 2 with one line naming the port; no store is created."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        store = tmp_path / "s.db"
        args = ["--bootstrap-servers", "127.0.0.1:9", "--topic", "events", "--health-port", str(port)]
        result = subprocess.run(
            worker_command(store, *args),
            capture_output=True,
            text=True,
            env=worker_env(),
            timeout=60,
            check=False,
        )
    assert result.returncode == 2
    assert result.stderr == (
        f"error: cannot listen on 127.0.0.1:{port}: it is already in use (another process listens there); "
        "stop that process or choose another port (--health-port or SIGMA_AETL_KAFKA_HEALTH_PORT)\n"
    )
    assert not store.exists()


def test_readiness_reports_the_first_missing_condition_and_a_silent_broker() -> None:
    """Health: the worker's own state first, then store, broker, group; ready once all hold, and not
    ready again when no broker answered for longer than stale_after."""
    now = [100.0]
    health = Health(clock=lambda: now[0], stale_after=60)
    health.details(contracts=2)
    assert health.readiness() == (503, {"status": "not_ready", "reason": "starting", "contracts": 2})
    health.problem("group", "waiting for the group")
    health.problem("broker", "waiting for a broker")
    health.ready()
    assert health.reason == "waiting for a broker"
    health.broker_answered()
    assert health.reason == "waiting for the group"
    health.problem("store", "the store does not answer")
    assert health.reason == "the store does not answer"
    health.ready()  # a stored batch: the store answers
    health.problem("group", None)
    assert health.readiness() == (200, {"status": "ready", "contracts": 2})
    now[0] += 61
    assert health.reason == "no Kafka broker has answered for 61 s"
    health.broker_answered()
    assert health.reason is None
    health.not_ready("stopped")
    assert health.reason == "stopped"


def test_a_kafka_call_waiting_past_its_bound_makes_the_worker_not_ready() -> None:
    """Health.waiting: within its bound a call to Kafka changes nothing; past it the worker is not ready,
    naming what waited and for how long, before a group problem; once the call returns, ready again."""
    now = [100.0]
    health = Health(clock=lambda: now[0])
    health.ready()
    health.broker_answered()
    with health.waiting("committing the stored offsets", limit=5):
        now[0] += 5
        assert health.reason is None
        now[0] += 7
        assert health.reason == "no Kafka broker answered while committing the stored offsets for 12 s"
        health.problem("group", "waiting for the group")
        assert health.reason == "no Kafka broker answered while committing the stored offsets for 12 s"
        health.problem("store", "the store does not answer")
        assert health.reason == "the store does not answer"
        health.ready()
    assert health.reason == "waiting for the group"
    health.problem("group", None)
    assert health.reason is None


def test_a_blocked_commit_turns_readyz_not_ready_and_back_once_it_returns(
    store: SqliteStore, make_worker: WorkerFactory, kafka: Kafka
) -> None:
    """A commit that blocks (as one to a broker gone away does, for the group's session timeout) makes
    /readyz say so while it waits, although the worker's loop cannot probe; ready again once it returns."""
    topic = kafka.topic("blocked-commit")
    kafka.produce(topic, [Msg(VALID_SHIPMENT)])
    health = Health()
    worker = make_worker(store, health, routes={topic: ("shipment", "1")})
    release, entered = threading.Event(), threading.Event()
    real_ack = worker.source.ack

    def blocked_ack(batch: Sequence[Envelope]) -> None:
        entered.set()
        release.wait(60)
        real_ack(batch)

    worker.source.ack = blocked_ack  # type: ignore[method-assign]
    with HealthServer(health, "127.0.0.1", 0) as server, WorkerThread(worker) as thread:
        try:
            thread.until(entered.is_set, 60, "the batch stored and its commit begun")
            seen = Answers(server.port)
            thread.until(seen.refused_broker, 30, "not ready while the commit waits", seen.told)
            reason = seen.changes[-1][2] or ""
            assert reason.startswith("no Kafka broker answered while committing the stored offsets for ")
        finally:
            release.set()
        thread.until(lambda: _status(server.port) == 200, 30, "ready once the commit returned")
        thread.stop()
    assert kafka.committed(worker.source.config.group_id) == {(topic, 0): 1}
