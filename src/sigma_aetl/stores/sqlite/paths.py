"""The field-path index of failures: which failures have an error at a path, keyed by the failure's rowid.

``failure_paths (path, failure_rowid)`` is appended in rowid order within each path, so a write adds its
entries at the end of a few pages instead of one random page each, as the former ``failure_fields (path,
failure_id)`` did: its ids are hashes. A store made before this layout has its ``failure_fields`` copied
across once, in one transaction, when it is opened for writing (:func:`migrate`); a store opened
read-only before that is read through its old table (:func:`field_clause`).
"""

import sqlite3

from sigma_aetl.stores.sqlite.lookups import by_ids
from sigma_aetl.stores.sqlite.transactions import transaction

SCHEMA = """
CREATE TABLE IF NOT EXISTS failure_paths (
    path          TEXT NOT NULL,
    failure_rowid INTEGER NOT NULL,
    PRIMARY KEY (path, failure_rowid)
) WITHOUT ROWID;
"""
BY_ROWID = "rowid IN (SELECT failure_rowid FROM failure_paths WHERE path = ?)"
"""The filter "has an error at this path", on the current layout."""
_BY_ID = "failure_id IN (SELECT failure_id FROM failure_fields WHERE path = ?)"
_LAST = "SELECT rowid, failure_id FROM failures ORDER BY rowid DESC LIMIT 1"
_OLD = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'failure_fields'"


def migrate(conn: sqlite3.Connection) -> None:
    """Move an older store's ``failure_fields`` into ``failure_paths`` (nothing to do when it is gone).
    Takes the write lock only when there is something to move, so opening a current store never waits."""
    if conn.execute(_OLD).fetchone() is None:
        return
    with transaction(conn):  # two processes opening one old store: the second finds it moved
        if conn.execute(_OLD).fetchone() is None:
            return
        conn.execute(
            "INSERT OR IGNORE INTO failure_paths SELECT ff.path, f.rowid "
            "FROM failure_fields ff JOIN failures f ON f.failure_id = ff.failure_id"
        )
        conn.execute("DROP TABLE failure_fields")


def field_clause(conn: sqlite3.Connection) -> str:
    """The path filter for this store's layout (an older store opened read-only keeps its old table)."""
    return _BY_ID if conn.execute(_OLD).fetchone() is not None else BY_ROWID


def insert(conn: sqlite3.Connection, fields: list[tuple[str, str]], fresh: list[tuple[object, ...]]) -> None:
    """Index ``fields`` ((path, failure id), of failures in ``fresh``, the rows just inserted, in order).

    A single writer inserting without explicit rowids gives each new row the table's largest rowid plus
    one, so ``fresh`` holds the last ``len(fresh)`` rowids in order; the last one is checked against its
    id, and the ids are looked up instead if it does not match."""
    if not fields:
        return
    last, last_id = conn.execute(_LAST).fetchone()
    if last_id == fresh[-1][0]:
        rowid = {row[0]: last - len(fresh) + 1 + index for index, row in enumerate(fresh)}
    else:
        rowid = dict(by_ids(conn, "SELECT failure_id, rowid FROM failures", "failure_id", fresh))
    conn.executemany("INSERT OR IGNORE INTO failure_paths VALUES (?, ?)", [(p, rowid[f]) for p, f in fields])


def delete(conn: sqlite3.Connection, fields: list[tuple[str, int]]) -> None:
    """Remove the entries of deleted failures ((path, failure rowid))."""
    conn.executemany("DELETE FROM failure_paths WHERE path = ? AND failure_rowid = ?", fields)
