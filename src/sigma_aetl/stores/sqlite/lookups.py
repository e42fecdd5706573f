"""Rows looked up by many keys (the ids a write carries, class ids, header keys), a bounded number of keys
per ``IN (...)`` at a time."""

import sqlite3
from collections.abc import Sequence
from typing import Any

CHUNK = 500
"""Ids per lookup, well under SQLite's bound-parameter limit."""


def by_ids(
    conn: sqlite3.Connection, select: str, column: str, rows: Sequence[tuple[Any, ...]]
) -> list[tuple[Any, ...]]:
    """``select`` (a query without WHERE) of the rows whose ``column`` is one of the first elements of
    ``rows``."""
    found: list[tuple[Any, ...]] = []
    for start in range(0, len(rows), CHUNK):
        _into(found, conn, select, column, [row[0] for row in rows[start : start + CHUNK]])
    return found


def by_keys(conn: sqlite3.Connection, select: str, column: str, keys: Sequence[Any]) -> list[tuple[Any, ...]]:
    """``select`` (a query without WHERE) of the rows whose ``column`` is one of ``keys``."""
    found: list[tuple[Any, ...]] = []
    for start in range(0, len(keys), CHUNK):
        _into(found, conn, select, column, list(keys[start : start + CHUNK]))
    return found


def _into(
    found: list[tuple[Any, ...]], conn: sqlite3.Connection, select: str, column: str, chunk: list[Any]
) -> None:
    marks = ",".join("?" * len(chunk))
    found.extend(conn.execute(f"{select} WHERE {column} IN ({marks})", chunk).fetchall())
