"""One write transaction on a SQLite connection, taken at once (``BEGIN IMMEDIATE``) and never left open."""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Hold the write lock for the block: commit when it ends, roll back when it raises."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:  # a failed COMMIT leaves the transaction open; never leave it dangling
            conn.execute("ROLLBACK")
        raise
