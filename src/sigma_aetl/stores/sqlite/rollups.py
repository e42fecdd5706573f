"""The analytics roll-ups in SQLite: their tables, and how a write or a purge keeps them.

    traffic_minutes   (minute, contract, version): accepted, failed
    failure_minutes   (minute, class_id): failures
    failure_hours     (hour, class_id): failures, summed per UTC hour (hour and day buckets read it)
    producer_minutes  (minute, contract, version, producer): accepted, failed

``minute`` is the integer microseconds of a UTC minute's start (``stores/rollups.py`` says what counts).
A write sums its new rows per key first, then upserts each key once, in the write's own transaction: a
record and its count commit together or not at all. A purge takes its failures out the same way; a row
left at zero is deleted, so a window's rows are only minutes with something in them. Every table is keyed
minute first, so a window is one range scan. Reads are in ``analytics.py``, the build of an older store's
roll-ups in ``rollup_migration.py``.
"""

import sqlite3
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from sigma_aetl.stores.rollups import MINUTE_US, Rollup

SCHEMA = """
CREATE TABLE IF NOT EXISTS traffic_minutes (
    minute   INTEGER NOT NULL,
    contract TEXT NOT NULL,
    version  INTEGER NOT NULL,
    accepted INTEGER NOT NULL,
    failed   INTEGER NOT NULL,
    PRIMARY KEY (minute, contract, version)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS failure_minutes (
    minute   INTEGER NOT NULL,
    class_id TEXT NOT NULL,
    failures INTEGER NOT NULL,
    PRIMARY KEY (minute, class_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS failure_hours (
    hour     INTEGER NOT NULL,
    class_id TEXT NOT NULL,
    failures INTEGER NOT NULL,
    PRIMARY KEY (hour, class_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS producer_minutes (
    minute   INTEGER NOT NULL,
    contract TEXT NOT NULL,
    version  INTEGER NOT NULL,
    producer TEXT NOT NULL,
    accepted INTEGER NOT NULL,
    failed   INTEGER NOT NULL,
    PRIMARY KEY (minute, contract, version, producer)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS classes_first_seen ON failure_classes (first_seen DESC, class_id);
"""
TABLES = ("traffic_minutes", "failure_minutes", "failure_hours", "producer_minutes")

Row = tuple[Any, ...]
_ADD_TRAFFIC = (
    "INSERT INTO traffic_minutes VALUES (?, ?, ?, ?, ?) ON CONFLICT (minute, contract, version) "
    "DO UPDATE SET accepted = accepted + excluded.accepted, failed = failed + excluded.failed"
)
_ADD_FAILURES = (
    "INSERT INTO failure_minutes VALUES (?, ?, ?) ON CONFLICT (minute, class_id) "
    "DO UPDATE SET failures = failures + excluded.failures"
)
_ADD_FAILURE_HOURS = (
    "INSERT INTO failure_hours VALUES (?, ?, ?) ON CONFLICT (hour, class_id) "
    "DO UPDATE SET failures = failures + excluded.failures"
)
_ADD_PRODUCERS = (
    "INSERT INTO producer_minutes VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (minute, contract, version, producer) "
    "DO UPDATE SET accepted = accepted + excluded.accepted, failed = failed + excluded.failed"
)


def keep(
    conn: sqlite3.Connection,
    producers: Mapping[str, tuple[str, ...]],
    records: list[Row],
    failures: list[Row],
) -> None:
    """Add a write's new record rows (id, contract, version, …, received µs at 5) and new failure rows (id,
    contract_ref, …, received µs at 6, …, class id at 12) to the roll-ups. Call in the write's transaction."""
    if not records and not failures:
        return
    # counted per (…, minute, producers) first: one tuple per row, then one delta per distinct key
    minute_records = Counter((r[1], r[2], r[5] - r[5] % MINUTE_US, producers.get(r[0], ())) for r in records)
    minute_failures = Counter(
        (r[1], r[12], r[6] - r[6] % MINUTE_US, producers.get(r[0], ())) for r in failures
    )
    rollup = Rollup()
    for (contract, version, minute, labels), n in minute_records.items():
        rollup.add_record(contract, version, minute, labels, n)
    for (contract_ref, class_id, minute, labels), n in minute_failures.items():
        rollup.add_failure(contract_ref, class_id, minute, labels, n)
    apply(conn, rollup)


def forget(conn: sqlite3.Connection, purged: Iterable[tuple[str | None, str, int, tuple[str, ...]]]) -> None:
    """Take purged failures (class id, contract as addressed, received µs, producers) out of the roll-ups.
    Call in the purge's transaction."""
    rollup = Rollup()
    for class_id, contract_ref, received_us, labels in purged:
        if class_id is not None:
            rollup.add_failure(contract_ref, class_id, received_us, labels, n=-1)
    if rollup:
        apply(conn, rollup)
        _drop_empty(conn, rollup)


def apply(conn: sqlite3.Connection, rollup: Rollup) -> None:
    """Upsert each key of ``rollup`` once. Call in a transaction."""
    conn.executemany(_ADD_TRAFFIC, [(*key, a, f) for key, (a, f) in rollup.traffic.items()])
    conn.executemany(_ADD_FAILURES, [(*key, n) for key, n in rollup.failures.items()])
    conn.executemany(_ADD_FAILURE_HOURS, [(*key, n) for key, n in rollup.failure_hours().items()])
    conn.executemany(_ADD_PRODUCERS, [(*key, a, f) for key, (a, f) in rollup.producers.items()])


def _drop_empty(conn: sqlite3.Connection, rollup: Rollup) -> None:
    """Delete the rows ``rollup`` touched that count nothing any more (by key: no scan)."""
    conn.executemany(
        "DELETE FROM traffic_minutes WHERE minute = ? AND contract = ? AND version = ? "
        "AND accepted <= 0 AND failed <= 0",
        list(rollup.traffic),
    )
    conn.executemany(
        "DELETE FROM failure_minutes WHERE minute = ? AND class_id = ? AND failures <= 0",
        list(rollup.failures),
    )
    conn.executemany(
        "DELETE FROM failure_hours WHERE hour = ? AND class_id = ? AND failures <= 0",
        list(rollup.failure_hours()),
    )
    conn.executemany(
        "DELETE FROM producer_minutes WHERE minute = ? AND contract = ? AND version = ? AND producer = ? "
        "AND accepted <= 0 AND failed <= 0",
        list(rollup.producers),
    )
