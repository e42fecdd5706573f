"""Rows looked up by the ids a write carries, a bounded number of ids per ``IN (...)`` at a time."""

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
        chunk = [row[0] for row in rows[start : start + CHUNK]]
        marks = ",".join("?" * len(chunk))
        found.extend(conn.execute(f"{select} WHERE {column} IN ({marks})", chunk).fetchall())
    return found
