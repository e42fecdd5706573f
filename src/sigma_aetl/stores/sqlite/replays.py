"""The replay tables: runs, lineage (one per record a replay wrote), resolutions (one per failure and record).

Lineage and resolutions sit beside ``records`` and ``failures``, never in them, so every stored document
stays as first written. :func:`write` does a replay batch in one transaction: the records (the ordinary
rows of :mod:`sigma_aetl.stores.sqlite.rows`), the lineage of those it stored, and the resolution of every
failure whose record's lineage names it — all or nothing, so a writer killed mid-batch leaves nothing
half-done. A store made before replays gains the tables when opened for writing; opened read-only, it
reads as a store with no replay.
"""

import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

from sigma_aetl.stores import metadata
from sigma_aetl.stores.base import Lineage, Replayed, ReplayRun, ReplayWrite, Resolution, micros
from sigma_aetl.stores.sqlite.apply import apply
from sigma_aetl.stores.sqlite.lookups import by_keys
from sigma_aetl.stores.sqlite.rows import rows_of

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS replay_runs (
    replay_id  TEXT PRIMARY KEY,
    started_at INTEGER NOT NULL,
    doc        BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS replay_runs_started ON replay_runs (started_at DESC);
CREATE TABLE IF NOT EXISTS lineage (
    record_id     TEXT PRIMARY KEY,
    replayed_from TEXT NOT NULL,
    doc           BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS resolutions (
    failure_id TEXT NOT NULL,
    record_id  TEXT NOT NULL,
    doc        BLOB NOT NULL,
    PRIMARY KEY (failure_id, record_id)
) WITHOUT ROWID;
"""


def write(conn: sqlite3.Connection, items: Sequence[Replayed], resolved_at: datetime) -> ReplayWrite:
    """Store a replay batch inside the caller's transaction (see the module docstring)."""
    parts = metadata.split([item.record for item in items], [])
    rows = rows_of(parts.records, [], parts.headers)
    existing, _ = apply(conn, rows)
    new = {row[0] for row in rows.records} - existing.keys()
    first = {item.record.record_id: item for item in reversed(items)}  # a repeated id keeps its first
    claims = [first[rid].lineage for rid in sorted(new)]
    conn.executemany(
        "INSERT OR IGNORE INTO lineage VALUES (?, ?, ?)",
        [(claim.record_id, claim.replayed_from, claim.model_dump_json()) for claim in claims],
    )
    named = _lineage_of(conn, sorted(first))
    resolutions = [
        item.resolution(named[item.record.record_id], resolved_at)
        for item in items
        if item.resolves(named.get(item.record.record_id), existing.get(item.record.record_id))
    ]
    conn.executemany(
        "INSERT OR IGNORE INTO resolutions VALUES (?, ?, ?)",
        [(r.failure_id, r.record_id, r.model_dump_json()) for r in resolutions],
    )
    return ReplayWrite(new, existing, {r.failure_id for r in resolutions})


def _lineage_of(conn: sqlite3.Connection, record_ids: list[str]) -> dict[str, Lineage]:
    rows = by_keys(conn, "SELECT record_id, doc FROM lineage", "record_id", record_ids)
    return {rid: Lineage.model_validate_json(doc) for rid, doc in rows}


def lineage(conn: sqlite3.Connection, record_id: str) -> Lineage | None:
    """The lineage of one record, or None."""
    select = "SELECT doc FROM lineage WHERE record_id = ?"
    row = _absent_as(None, lambda: conn.execute(select, (record_id,)).fetchone())
    return Lineage.model_validate_json(row[0]) if row else None


def resolutions(conn: sqlite3.Connection, failure_id: str) -> list[Resolution]:
    """A failure's resolutions, oldest first."""
    select = "SELECT doc FROM resolutions WHERE failure_id = ?"
    rows: list[tuple[bytes]] = _absent_as([], lambda: conn.execute(select, (failure_id,)).fetchall())
    found = [Resolution.model_validate_json(row[0]) for row in rows]
    return sorted(found, key=lambda r: (r.resolved_at, r.record_id))


def save(conn: sqlite3.Connection, run: ReplayRun) -> None:
    """Insert or replace ``run``."""
    started = micros(run.started_at)
    conn.execute(
        "INSERT OR REPLACE INTO replay_runs VALUES (?, ?, ?)", (run.replay_id, started, run.model_dump_json())
    )


def get(conn: sqlite3.Connection, replay_id: str) -> ReplayRun | None:
    """One run, or None."""
    select = "SELECT doc FROM replay_runs WHERE replay_id = ?"
    row = _absent_as(None, lambda: conn.execute(select, (replay_id,)).fetchone())
    return ReplayRun.model_validate_json(row[0]) if row else None


def every(conn: sqlite3.Connection, limit: int, offset: int) -> list[ReplayRun]:
    """Runs, the latest started first."""
    select = "SELECT doc FROM replay_runs ORDER BY started_at DESC, replay_id DESC LIMIT ? OFFSET ?"
    rows: list[tuple[bytes]] = _absent_as([], lambda: conn.execute(select, (limit, offset)).fetchall())
    return [ReplayRun.model_validate_json(row[0]) for row in rows]


def _absent_as(default: T, read: Callable[[], T]) -> T:
    """``read()``, or ``default`` in a store opened read-only that predates the replay tables."""
    try:
        return read()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return default
        raise
