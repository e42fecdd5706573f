"""Building the failure classes and producer activity of a SQLite store made before they existed.

Once, when the store is opened for writing (``SqliteStore.__init__``, before its writer starts): failures
gain a ``class_id`` column, indexed with ``received_at`` (a purge reads a class's first failure along it),
and every stored failure and accepted record is counted, in batches of :data:`BATCH` rows, each its own
transaction. Progress is kept in ``store_progress`` (the last rowid done), so an interrupted build goes on
where it stopped; a failure is counted only while its ``class_id`` is still NULL, in the transaction that
sets it, so two processes building at once count each failure once. Records are counted up to the last
rowid stored when the build began: any later record was written by code that counts it itself.

``PRAGMA user_version`` becomes :data:`VERSION` when the build is complete; a store opened read-only below
it answers class queries with a StoreError saying what to run, rather than with classes missing failures.
"""

import sqlite3
from typing import Any

import orjson

from sigma_aetl.core import serial
from sigma_aetl.core.records import FailureRecord
from sigma_aetl.errors import StoreError
from sigma_aetl.stores.classes import ActivityDelta, ClassDelta, Classifier, source_producers
from sigma_aetl.stores.sqlite import classes
from sigma_aetl.stores.sqlite.transactions import transaction

VERSION = 1
"""``user_version`` of a store whose classes and producer activity are complete."""
BATCH = 1000
"""Rows counted per transaction."""
_PROGRESS = (
    "CREATE TABLE IF NOT EXISTS store_progress "
    "(name TEXT PRIMARY KEY, position INTEGER NOT NULL, until INTEGER) WITHOUT ROWID"
)


def ready(conn: sqlite3.Connection) -> bool:
    """Whether the store's classes and producer activity are complete."""
    version: int = conn.execute("PRAGMA user_version").fetchone()[0]
    return version >= VERSION


def require(conn: sqlite3.Connection, path: str) -> None:
    """Raise StoreError unless :func:`ready`: the store was made before classes and was never opened for
    writing since."""
    if not ready(conn):
        raise StoreError(
            f"the store {path!r} was made before failure classes and has not been migrated: open it once "
            "for writing (any `sigma-aetl ingest`, `serve` or `worker` on it does) to build them from its "
            "stored failures"
        )


def migrate(conn: sqlite3.Connection) -> None:
    """Give the store its classes and producer activity, from what it holds (nothing to do once ready)."""
    if ready(conn):
        return
    with transaction(conn):
        conn.execute(_PROGRESS)
        if "class_id" not in {row[1] for row in conn.execute("PRAGMA table_info(failures)")}:
            conn.execute("ALTER TABLE failures ADD COLUMN class_id TEXT")
        conn.execute("CREATE INDEX IF NOT EXISTS failures_class ON failures (class_id, received_at)")
        conn.execute("INSERT OR IGNORE INTO store_progress VALUES ('classes', 0, NULL)")
        conn.execute(
            "INSERT OR IGNORE INTO store_progress VALUES "
            "('activity', 0, (SELECT coalesce(max(rowid), 0) FROM records))"
        )
    while _classes_batch(conn):
        pass
    while _activity_batch(conn):
        pass
    conn.execute(f"PRAGMA user_version = {VERSION}")


def _classes_batch(conn: sqlite3.Connection) -> bool:
    """Count the next batch of stored failures into their classes; False once none is left."""
    with transaction(conn):
        position = _position(conn, "classes")
        rows = conn.execute(
            "SELECT rowid, failure_id, doc, occurrences, received_at, coalesce(last_seen, received_at), "
            "class_id FROM failures WHERE rowid > ? ORDER BY rowid LIMIT ?",
            (position, BATCH),
        ).fetchall()
        if not rows:
            return False
        classifier = Classifier()
        deltas: dict[str, ClassDelta] = {}
        updates: list[tuple[str, str]] = []
        for _, failure_id, doc, occurrences, received, last, stored_class in rows:
            if stored_class is not None:  # counted already (by a write, or another process's build)
                continue
            failure = serial.loads(FailureRecord, doc)
            class_id = classifier.class_of(failure)
            updates.append((class_id, failure_id))
            delta = deltas.setdefault(class_id, ClassDelta())
            delta.add_failure(failure_id, received, occurrences, last, source_producers(failure.source))
        conn.executemany("UPDATE failures SET class_id = ? WHERE failure_id = ?", updates)
        classes.apply_deltas(conn, classifier.meta, deltas)
        _advance(conn, "classes", rows[-1][0])
    return True


def _activity_batch(conn: sqlite3.Connection) -> bool:
    """Count the next batch of records stored before the build into producer activity; False once done."""
    with transaction(conn):
        position, until = conn.execute(
            "SELECT position, until FROM store_progress WHERE name = 'activity'"
        ).fetchone()
        rows = conn.execute(
            "SELECT rowid, contract, version, received_at, doc FROM records "
            "WHERE rowid > ? AND rowid <= ? ORDER BY rowid LIMIT ?",
            (position, until, BATCH),
        ).fetchall()
        if not rows:
            return False
        deltas: dict[tuple[str, int, str], ActivityDelta] = {}
        for _, contract, version, received, doc in rows:
            for label in source_producers(_source(doc)):
                deltas.setdefault((contract, version, label), ActivityDelta()).add(received)
        classes.add_activity(conn, deltas)
        _advance(conn, "activity", rows[-1][0])
    return True


def _source(doc: bytes) -> dict[str, Any]:
    source = orjson.loads(doc).get("source")
    return source if isinstance(source, dict) else {}


def _position(conn: sqlite3.Connection, name: str) -> int:
    found: int = conn.execute("SELECT position FROM store_progress WHERE name = ?", (name,)).fetchone()[0]
    return found


def _advance(conn: sqlite3.Connection, name: str, position: int) -> None:
    conn.execute("UPDATE store_progress SET position = ? WHERE name = ?", (position, name))
