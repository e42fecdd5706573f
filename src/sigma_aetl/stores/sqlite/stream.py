"""The accepted records in commit order: the reads behind ``GET /v1/records`` and ``records export``.

The order is the rowid. Every write is one ``BEGIN IMMEDIATE`` transaction and SQLite gives each new row
the largest rowid so far plus one, so a transaction that commits after a reader's snapshot holds only
rowids above every rowid that snapshot could see: a cursor (the last rowid read) never skips a record
committed later. Records are never deleted, so rowids have no gaps and are never reused.

Every query walks an index in rowid order and stops after ``limit + 1`` rows (the extra one says whether
there is a next page): ``(contract, version)`` extended by the rowid for one version, the table itself
without a contract, and for a contract across its versions one walk per version, merged. The time filters
are checked on the rows walked (there is no index on ``received_at``: see docs/records.md).
"""

import heapq
import itertools
import sqlite3
from collections.abc import Iterator
from typing import Any

from sigma_aetl.stores.base import RecordQuery, micros

Row = tuple[int, bytes]
"""(rowid, doc)."""

_CHUNK = 500  # rowids per IN (...) lookup, well under SQLite's bound-parameter limit


def rows(conn: sqlite3.Connection, query: RecordQuery, after: int, count: int) -> Iterator[Row]:
    """The first ``count`` records matching ``query`` with a rowid above ``after``, in rowid order, read
    one at a time as they are consumed (a page cut short by bytes reads no further documents)."""
    if query.contract is not None and query.version is None:
        return _across_versions(conn, query, query.contract, after, count)
    where, params = record_filter(query.contract, query.version, query)
    return iter(
        conn.execute(
            f"SELECT rowid, doc FROM records WHERE rowid > ? {where} ORDER BY rowid LIMIT ?",
            [after, *params, count],
        )
    )


def _across_versions(
    conn: sqlite3.Connection, query: RecordQuery, contract: str, after: int, count: int
) -> Iterator[Row]:
    """One contract, every version: the first rowids of each version's walk, merged, then their docs."""
    walks = [
        _rowids(conn, query, contract, version, after=after, count=count)
        for version in _versions(conn, contract)
    ]
    chosen = list(itertools.islice(heapq.merge(*walks), count))
    for start in range(0, len(chosen), _CHUNK):
        chunk = chosen[start : start + _CHUNK]
        marks = ",".join("?" * len(chunk))
        yield from conn.execute(
            f"SELECT rowid, doc FROM records WHERE rowid IN ({marks}) ORDER BY rowid", chunk
        )


def _rowids(
    conn: sqlite3.Connection, query: RecordQuery, contract: str, version: int, *, after: int, count: int
) -> list[int]:
    where, params = record_filter(contract, version, query)
    found = conn.execute(
        f"SELECT rowid FROM records WHERE rowid > ? {where} ORDER BY rowid LIMIT ?", [after, *params, count]
    ).fetchall()
    return [row[0] for row in found]


def _versions(conn: sqlite3.Connection, contract: str) -> list[int]:
    """The versions of ``contract`` stored, by skipping along the (contract, version) index: one seek each."""
    found: list[int] = []
    while True:
        row = conn.execute(
            "SELECT version FROM records WHERE contract = ? AND version > ? ORDER BY version LIMIT 1",
            (contract, found[-1] if found else -(2**63)),
        ).fetchone()
        if row is None:
            return found
        found.append(row[0])


def record_filter(contract: str | None, version: int | None, query: RecordQuery) -> tuple[str, list[Any]]:
    """``AND ...`` conditions for the contract and version given and ``query``'s time window, and their
    parameters."""
    conditions: list[tuple[str, Any]] = [
        ("contract = ?", contract),
        ("version = ?", version),
        ("received_at >= ?", micros(query.since) if query.since is not None else None),
        ("received_at < ?", micros(query.until) if query.until is not None else None),
    ]
    kept = [(clause, value) for clause, value in conditions if value is not None]
    return "".join(f"AND {clause} " for clause, _ in kept), [value for _, value in kept]
