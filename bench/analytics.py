"""Failure analytics: each endpoint's store call on a SQLite store of ``--scale`` stored events (issue 15).

The store is filled fast, by direct bulk inserts into its tables (as a migration would leave them, not
through the write path, whose cost the ``ingest`` part measures): ``--scale`` events over :data:`DAYS`
days, one every few hundred milliseconds, :data:`FAILED_SHARE` of them failures of :data:`KINDS` classes
(the ``classes`` part's signatures), the rest accepted records of three contract versions, from
:data:`PRODUCERS` producer labels. Records and failures get rows of their own (small documents); the
roll-ups are summed by the product's own code (``stores/rollups.py``, applied by
``stores/sqlite/rollups.py``), and the failure classes hold their counts.

Then each endpoint's store call is timed on a fresh read-only store, the median of ``--runs`` x
:data:`REPEATS` calls, against the issue's target of under a second at 5 million stored events.
"""

import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from bench.classes import CAUSES, KINDS, PATHS, REPEATS, timed
from bench.context import Context
from bench.stats import Figure, PartResult, Row, Target
from sigma_aetl.core.analytics import (
    AnalyticsWindow,
    Bucket,
    FailureAnalyticsQuery,
    FailureGroup,
    stale_versions,
)
from sigma_aetl.stores.base import micros
from sigma_aetl.stores.rollups import Rollup
from sigma_aetl.stores.sqlite import SqliteStore, rollup_migration, rollups

DAYS = 7
FAILED_SHARE = 0.2
PRODUCERS = 20
VERSIONS = (("shipment", 1), ("shipment", 2), ("order", 1))
BATCH = 50_000
TARGET = Target("<=", 1000.0)
TARGET_AT = 5_000_000
END = datetime(2026, 12, 1, tzinfo=UTC)
START = END - timedelta(days=DAYS)
_FAILURE_COLUMNS = (
    "failure_id, contract_ref, contract, version, root_cause, stage, received_at, doc, occurrences, "
    "first_seen, last_seen, latest, class_id"
)


@dataclass(frozen=True)
class Event:
    """One stored event of the fill: its number, time, producer, and class (None: accepted)."""

    n: int
    at_us: int
    producer: str
    kind: int | None


def events(count: int) -> Iterator[Event]:
    """``count`` events spread evenly over the DAYS days before END; every fifth a failure."""
    step = (micros(END) - micros(START)) // max(count, 1)
    every = round(1 / FAILED_SHARE)
    for n in range(count):
        kind = (n // every) % KINDS if n % every == 0 else None
        producer = f"topic:orders-{n % 4}" if n % 2 else f"client:10.0.0.{n % PRODUCERS}"
        yield Event(n, micros(START) + n * step, producer, kind)


def _class_id(kind: int) -> str:
    return f"cls_{kind:032x}"


def _errors(kind: int) -> str:
    cause = CAUSES[kind % len(CAUSES)]
    return orjson.dumps([[f"items[*].field_{kind % PATHS}", cause.value]]).decode()


def fill(path: Path, count: int) -> float:
    """Write ``count`` events into a new store at ``path`` by direct inserts; return events per second."""
    SqliteStore(path, writer="inline").close()  # the schema, at user_version 2
    began = time.perf_counter()
    conn = _connect(path)
    try:
        batch: list[Event] = []
        firsts: dict[int, int] = {}
        for event in events(count):
            batch.append(event)
            if event.kind is not None:
                firsts.setdefault(event.kind, event.at_us)
            if len(batch) == BATCH:
                _insert(conn, batch)
                batch = []
        _insert(conn, batch)
        _classes(conn, count, firsts)
        conn.execute("COMMIT")
    finally:
        conn.close()
    return count / (time.perf_counter() - began)


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("BEGIN")
    return conn


def _insert(conn: sqlite3.Connection, batch: list[Event]) -> None:
    rollup = Rollup()
    records, failures = [], []
    for e in batch:
        if e.kind is None:
            contract, version = VERSIONS[e.n % len(VERSIONS)]
            records.append((f"rec_{e.n:012d}", contract, version, "sha256:b", "h", e.at_us, b"{}"))
            rollup.add_record(contract, version, e.at_us, (e.producer,))
        else:
            columns = ("shipment@1", "shipment", 1, "x", "schema", e.at_us, b"{}", 1, None, None, None)
            failures.append((f"fail_{e.n:012d}", *columns, _class_id(e.kind)))
            rollup.add_failure("shipment@1", _class_id(e.kind), e.at_us, (e.producer,))
    conn.executemany("INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?)", records)
    conn.executemany(f"INSERT INTO failures ({_FAILURE_COLUMNS}) VALUES ({', '.join('?' * 13)})", failures)
    rollups.apply(conn, rollup)


def _classes(conn: sqlite3.Connection, count: int, firsts: dict[int, int]) -> None:
    """The class rows, each with its share of the failures (counts are not what the timing reads)."""
    per_class = max(1, int(count * FAILED_SHARE) // KINDS)
    rows = [_class_row(k, first, per_class) for k, first in firsts.items()]
    conn.executemany("INSERT INTO failure_classes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    paths = [(f"items[*].field_{k % PATHS}", _class_id(k)) for k in firsts]
    conn.executemany("INSERT OR IGNORE INTO class_fields VALUES (?, ?)", paths)


def _class_row(kind: int, first_us: int, count: int) -> tuple[object, ...]:
    cause = CAUSES[kind % len(CAUSES)].value
    signature = (_class_id(kind), "shipment@1", "shipment", 1, cause, _errors(kind))
    return (*signature, count, count, first_us, f"fail_{kind:012d}", micros(END), "[]")


def calls() -> list[tuple[str, Callable[[SqliteStore], object]]]:
    """Each endpoint's store call: the default window (the last 24 hours, by hour) and the whole week."""
    day = (END - timedelta(hours=24), END)
    week = (START, END)
    released = {"shipment": [1, 2], "order": [1]}

    def failures(
        group: FailureGroup, window: tuple[datetime, datetime], bucket: Bucket = "hour"
    ) -> Callable[[SqliteStore], object]:
        since, until = window
        query = FailureAnalyticsQuery(group_by=group, bucket=bucket, since=since, until=until)
        return lambda store: store.failure_analytics(query)

    traffic_day = AnalyticsWindow(since=day[0], until=day[1])
    traffic_week = AnalyticsWindow(since=week[0], until=week[1], bucket="hour")
    stale_week = AnalyticsWindow(since=week[0], until=week[1], bucket="day")
    return [
        ("failures by root_cause, 24 h by hour (default)", failures("root_cause", day)),
        ("failures by field, 24 h by hour", failures("field", day)),
        ("failures by producer, 24 h by hour", failures("producer", day)),
        ("failures by class, 24 h by hour", failures("class", day)),
        ("failures by root_cause, 7 days by hour", failures("root_cause", week)),
        ("failures by class, 7 days by day", failures("class", week, "day")),
        ("traffic, 24 h by hour (default)", lambda store: store.traffic_analytics(traffic_day)),
        ("traffic, 7 days by hour", lambda store: store.traffic_analytics(traffic_week)),
        ("new classes, 7 days", lambda store: store.new_classes(START, END, 50)),
        (
            "stale versions, 7 days",
            lambda store: stale_versions(store.traffic_analytics(stale_week), released),
        ),
    ]


def run(ctx: Context) -> PartResult:
    """Fill the store, then time each analytics call on it."""
    options = ctx.options
    path = options.workdir / "analytics.db"
    _drop(path)
    rate = fill(path, options.scale)
    size = sum(
        Path(f"{path}{suffix}").stat().st_size for suffix in ("", "-wal") if Path(f"{path}{suffix}").exists()
    )
    target = TARGET if options.scale >= TARGET_AT else None
    part = PartResult(
        "analytics", "Failure analytics: each endpoint's store call on many stored events (SQLite)"
    )
    part.rows = [Row(f"fill: {options.scale:,} events inserted directly", Figure.of([rate]), "events/s")]
    part.rows += [Row(name, timed(path, call, options.runs), "ms", target) for name, call in calls()]
    part.notes = [
        f"{options.scale:,} stored events over {DAYS} days ({FAILED_SHARE:.0%} failures of {KINDS} classes, "
        f"{len(VERSIONS)} contract versions, {PRODUCERS + 4} producer labels), inserted directly into the "
        f"tables with their roll-ups summed by stores/rollups.py (store file {size / 2**20:,.0f} MiB).",
        f"Each call: {options.runs} runs on a fresh read-only store, each the median of {REPEATS} calls; the "
        f"under-a-second target applies at {TARGET_AT:,} events (`--scale`). Roll-up schema "
        f"user_version {rollup_migration.VERSION}.",
    ]
    _drop(path)
    return part


def _drop(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
