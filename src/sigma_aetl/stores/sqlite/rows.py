"""The SQLite write itself, as plain rows: built in the caller's process, applied in the writer's.

:func:`rows_of` turns records into the tuples the tables hold (documents serialised, duplicates within
the batch dropped, the first kept); :func:`apply` looks up which ids exist and inserts the rest, inside the
caller's transaction. Rows are plain tuples, so they cross a process boundary cheaply (see
:mod:`sigma_aetl.stores.sqlite.writer`).
"""

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sigma_aetl.core import serial
from sigma_aetl.core.records import AcceptedRecord, FailureRecord
from sigma_aetl.stores.base import WriteReport, micros

Row = tuple[Any, ...]
Existing = tuple[dict[str, str], set[str]]
"""What a write found already stored: record id → content hash, and failure ids."""

_CHUNK = 500  # ids per IN (...) lookup, well under SQLite's bound-parameter limit


@dataclass(frozen=True, slots=True)
class Rows:
    """One write's rows: ``records`` and ``failures`` start with their id; ``fields`` is (path, id)."""

    records: list[Row]
    failures: list[Row]
    fields: list[tuple[str, str]]


def rows_of(records: Sequence[AcceptedRecord], failures: Sequence[FailureRecord]) -> Rows:
    """The rows for a write; a repeated id keeps its first record."""
    stamps: dict[Any, int] = {}  # a batch's events mostly share one arrival time
    record_rows = {
        r.record_id: (
            r.record_id,
            r.contract,
            r.version,
            r.fingerprint,
            r.content_hash,
            _micros(stamps, r.received_at),
            serial.dumps(r),
        )
        for r in reversed(records)
    }
    failure_rows: dict[str, Row] = {}
    fields: list[tuple[str, str]] = []
    for f in failures:
        if f.failure_id in failure_rows:
            continue
        failure_rows[f.failure_id] = (
            f.failure_id,
            f.contract_ref,
            f.contract,
            f.version,
            f.root_cause.value,
            f.stage.value,
            _micros(stamps, f.received_at),
            serial.dumps(f),
        )
        fields.extend((path, f.failure_id) for path in f.fields)
    return Rows(list(reversed(record_rows.values())), list(failure_rows.values()), fields)


def _micros(stamps: dict[Any, int], moment: Any) -> int:
    found = stamps.get(moment)
    if found is None:
        found = stamps[moment] = micros(moment)
    return found


def apply(conn: sqlite3.Connection, rows: Rows) -> Existing:
    """Insert every row whose id is not stored yet; return what was already there. Call in a transaction."""
    records: dict[str, str] = dict(
        _lookup(conn, "SELECT record_id, content_hash FROM records", "record_id", rows.records)
    )
    failures = {
        row[0] for row in _lookup(conn, "SELECT failure_id FROM failures", "failure_id", rows.failures)
    }
    conn.executemany(
        "INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?)",
        [row for row in rows.records if row[0] not in records] if records else rows.records,
    )
    fresh = [row for row in rows.failures if row[0] not in failures] if failures else rows.failures
    conn.executemany("INSERT INTO failures VALUES (?, ?, ?, ?, ?, ?, ?, ?)", fresh)
    conn.executemany(
        "INSERT INTO failure_fields VALUES (?, ?)",
        [field for field in rows.fields if field[1] not in failures] if failures else rows.fields,
    )
    return records, failures


def report(rows: Rows, existing: Existing) -> WriteReport:
    """The write's report: ids newly stored, and ids found stored."""
    records, failures = existing
    return WriteReport(
        new_records={row[0] for row in rows.records} - records.keys(),
        existing_records=records,
        new_failures={row[0] for row in rows.failures} - failures,
        existing_failures=failures,
    )


def _lookup(conn: sqlite3.Connection, select: str, column: str, rows: list[Row]) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = []
    for start in range(0, len(rows), _CHUNK):
        chunk = [row[0] for row in rows[start : start + _CHUNK]]
        marks = ",".join("?" * len(chunk))
        found.extend(conn.execute(f"{select} WHERE {column} IN ({marks})", chunk).fetchall())
    return found
