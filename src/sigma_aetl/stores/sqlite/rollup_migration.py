"""Building the analytics roll-ups of a SQLite store made before them (``user_version`` below 2).

Once, when the store is opened for writing (``SqliteStore.__init__``, after the class migration, before
its writer starts): the first transaction empties the roll-up tables and records, in ``store_progress``,
the last rowid of records and of failures stored so far; then every row up to those rowids is counted, in
batches of :data:`BATCH`, each its own transaction that also advances the position, so an interrupted
build goes on where it stopped and two processes building at once count each row once. A row stored
after the build began was written by code that counts it itself. ``PRAGMA user_version`` becomes
:data:`VERSION` at the end; a store opened read-only below it answers analytics with a StoreError saying
what to run.
"""

import sqlite3
from typing import Any

import orjson

from sigma_aetl.errors import StoreError
from sigma_aetl.stores.classes import source_producers
from sigma_aetl.stores.rollups import Rollup
from sigma_aetl.stores.sqlite import rollups
from sigma_aetl.stores.sqlite.transactions import transaction

VERSION = 2
"""``user_version`` of a store whose roll-ups are complete."""
BATCH = 5000
"""Rows counted per transaction."""
_PROGRESS = (  # as the class migration makes it
    "CREATE TABLE IF NOT EXISTS store_progress "
    "(name TEXT PRIMARY KEY, position INTEGER NOT NULL, until INTEGER) WITHOUT ROWID"
)
_STEPS = {
    "rollup_records": "SELECT rowid, contract, version, received_at, doc FROM records "
    "WHERE rowid > ? AND rowid <= ? ORDER BY rowid LIMIT ?",
    "rollup_failures": "SELECT rowid, contract_ref, class_id, received_at, doc FROM failures "
    "WHERE rowid > ? AND rowid <= ? ORDER BY rowid LIMIT ?",
}


def ready(conn: sqlite3.Connection) -> bool:
    """Whether the store's roll-ups are complete."""
    version: int = conn.execute("PRAGMA user_version").fetchone()[0]
    return version >= VERSION


def require(conn: sqlite3.Connection, path: str) -> None:
    """Raise StoreError unless :func:`ready`."""
    if not ready(conn):
        raise StoreError(
            f"the store {path!r} was made before failure analytics and has not been migrated: open it once "
            "for writing (any `sigma-aetl ingest`, `serve` or `worker` on it does) to build them from its "
            "stored records and failures"
        )


def migrate(conn: sqlite3.Connection) -> None:
    """Build the roll-ups from what the store holds (nothing to do once ready). Call after the class
    migration: failures are counted by their ``class_id``."""
    if ready(conn):
        return
    with transaction(conn):
        conn.execute(_PROGRESS)
        started = conn.execute("SELECT 1 FROM store_progress WHERE name = 'rollup_records'").fetchone()
        if started is None:  # the first to build: start from empty tables
            for table in rollups.TABLES:
                conn.execute(f"DELETE FROM {table}")
            for name, table in (("rollup_records", "records"), ("rollup_failures", "failures")):
                conn.execute(
                    "INSERT INTO store_progress VALUES "
                    f"(?, 0, (SELECT coalesce(max(rowid), 0) FROM {table}))",
                    (name,),
                )
    for name in _STEPS:
        while _batch(conn, name):
            pass
    conn.execute(f"PRAGMA user_version = {VERSION}")


def _batch(conn: sqlite3.Connection, name: str) -> bool:
    """Count the next batch of step ``name``'s rows; False once none is left."""
    with transaction(conn):
        position, until = conn.execute(
            "SELECT position, until FROM store_progress WHERE name = ?", (name,)
        ).fetchone()
        rows = conn.execute(_STEPS[name], (position, until, BATCH)).fetchall()
        if not rows:
            return False
        rollup = Rollup()
        for _, first, second, received, doc in rows:
            labels = source_producers(_source(doc))
            if name == "rollup_records":
                rollup.add_record(first, second, received, labels)
            elif second is not None:
                rollup.add_failure(first, second, received, labels)
        rollups.apply(conn, rollup)
        conn.execute("UPDATE store_progress SET position = ? WHERE name = ?", (rows[-1][0], name))
    return True


def _source(doc: bytes) -> dict[str, Any]:
    source = orjson.loads(doc).get("source")
    return source if isinstance(source, dict) else {}
