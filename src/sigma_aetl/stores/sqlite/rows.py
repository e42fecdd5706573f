"""The SQLite write itself, as plain rows: built in the caller's process, applied in the writer's.

:func:`rows_of` turns records into the tuples the tables hold (documents serialised, duplicates within
the batch dropped, the first kept, and the arrivals of failures identified by their bytes tallied: see
:mod:`sigma_aetl.stores.arrivals`); :func:`apply` looks up which ids exist, inserts the rest and adds the
tallied arrivals to the failures already stored, inside the caller's transaction. Rows are plain tuples,
so they cross a process boundary cheaply (see :mod:`sigma_aetl.stores.sqlite.writer`).
"""

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sigma_aetl.core import serial
from sigma_aetl.core.classes import producers_of
from sigma_aetl.core.records import MAX_LATEST, AcceptedRecord, Arrival, FailureRecord, written_json
from sigma_aetl.stores.arrivals import Tally, tally
from sigma_aetl.stores.base import WriteReport, micros
from sigma_aetl.stores.classes import Classifier, ClassMeta
from sigma_aetl.stores.sqlite import classes, rollups

Row = tuple[Any, ...]
Existing = tuple[dict[str, str], set[str]]
"""What a write found already stored: record id → content hash, and failure ids."""

_CHUNK = 500  # ids per IN (...) lookup, well under SQLite's bound-parameter limit


@dataclass(frozen=True, slots=True)
class Rows:
    """One write's rows: ``records`` and ``failures`` start with their id; ``fields`` is (path, id);
    ``counted`` is (id, arrivals, first µs, last µs, the JSON of the write's latest arrivals, or None for
    a single copy, whose arrival its failure row's document describes) per failure whose copies count."""

    records: list[Row]
    failures: list[Row]
    fields: list[tuple[str, str]]
    counted: list[Row]
    headers: list[tuple[str, bytes]]
    """(key, JSON) of each request's headers the records name (``stores/metadata.py``)."""
    classes: dict[str, ClassMeta]
    """The failure classes of ``failures`` (each failure row ends with its class id)."""
    producers: dict[str, tuple[str, ...]]
    """Record or failure id → its producer labels (failure classes and producer activity count them)."""


def rows_of(
    records: Sequence[AcceptedRecord], failures: Sequence[FailureRecord], headers: dict[str, bytes]
) -> Rows:
    """The rows for a write (records whose ``source`` names ``headers`` by key); a repeated id keeps its
    first record."""
    stamps: dict[Any, int] = {}  # a batch's events mostly share one arrival time
    producers = {r.record_id: producers_of(r.source) for r in records}
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
    arrivals = tally(failures)
    counted = {
        failure_id: (failure_id, t.count, t.first_us, t.last_us, _latest(t))
        for failure_id, t in arrivals.tallies.items()
    }
    failure_rows: list[Row] = []
    fields: list[tuple[str, str]] = []
    classifier = Classifier()
    for f in arrivals.firsts:
        failure_rows.append(
            (
                f.failure_id,
                f.contract_ref,
                f.contract,
                f.version,
                f.root_cause.value,
                f.stage.value,
                _micros(stamps, f.received_at),
                written_json(f),
                *_first_occurrences(counted.get(f.failure_id)),
                classifier.class_of(f),
            )
        )
        producers[f.failure_id] = producers_of(f.source)
        fields.extend((path, f.failure_id) for path in f.fields)
    return Rows(
        list(reversed(record_rows.values())),
        failure_rows,
        fields,
        list(counted.values()),
        list(headers.items()),
        classifier.meta,
        producers,
    )


def _latest(tally: Tally) -> list[bytes] | None:
    # a single copy (the common case) is not serialised twice: only a repeat of a stored failure needs
    # its arrival, and the writer reads that from the row's document
    return None if tally.count == 1 else [serial.dumps(arrival) for arrival in tally.latest]


def _first_occurrences(counted: Row | None) -> Row:
    """The occurrence columns of a new failure row. ``latest`` holds the arrivals after the row's own (the
    last of them, at most MAX_LATEST); NULL for first and last seen stands for the row's own receipt."""
    if counted is None or counted[1] == 1:
        return (1, None, None, None)
    _, count, first_us, last_us, latest = counted
    repeats = latest[1:] if count <= MAX_LATEST else latest  # the tally still holds the first copy
    return (count, first_us, last_us, _lines(repeats))


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
    # first, in the same transaction: no reader sees a record without the headers it names
    conn.executemany("INSERT OR IGNORE INTO request_headers VALUES (?, ?)", rows.headers)
    new_records = [row for row in rows.records if row[0] not in records] if records else rows.records
    conn.executemany("INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?)", new_records)
    fresh = [row for row in rows.failures if row[0] not in failures] if failures else rows.failures
    conn.executemany(_INSERT_FAILURE, fresh)
    conn.executemany(
        "INSERT INTO failure_fields VALUES (?, ?)",
        [field for field in rows.fields if field[1] not in failures] if failures else rows.fields,
    )
    again = [row for row in rows.counted if row[0] in failures] if failures and rows.counted else []
    _count_again(conn, again, rows.failures)
    classes.keep(conn, rows.classes, rows.producers, fresh, _arrivals_again(again, rows.failures))
    classes.keep_activity(conn, rows.producers, new_records)
    rollups.keep(conn, rows.producers, new_records, fresh)
    return records, failures


def _arrivals_again(again: list[Row], written: list[Row]) -> list[tuple[str, int, int]]:
    """(class id, arrivals, last µs) of each failure stored already that this write counts again."""
    if not again:
        return []
    class_of = {row[0]: row[12] for row in written}
    return [(class_of[row[0]], row[1], row[3]) for row in again]


_INSERT_FAILURE = (
    "INSERT INTO failures (failure_id, contract_ref, contract, version, root_cause, stage, received_at, doc, "
    "occurrences, first_seen, last_seen, latest, class_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_COUNT_AGAIN = (
    "UPDATE failures SET occurrences = occurrences + ?, "
    "first_seen = min(coalesce(first_seen, received_at), ?), "
    "last_seen = max(coalesce(last_seen, received_at), ?), latest = ? WHERE failure_id = ?"
)


def _count_again(conn: sqlite3.Connection, counted: list[Row], written: list[Row]) -> None:
    """Add each tally to a failure already stored: its count, first and last seen, and latest arrivals (all
    repeats of the stored row's own arrival)."""
    if not counted:
        return
    stored = dict(_lookup(conn, "SELECT failure_id, latest FROM failures", "failure_id", counted))
    documents = {row[0]: row[7] for row in written} if any(row[4] is None for row in counted) else {}
    updates = []
    for failure_id, count, first_us, last_us, latest in counted:
        before = stored[failure_id]
        kept = _elements(before) if before is not None else []
        new = latest if latest is not None else [_arrival(documents[failure_id])]
        updates.append((count, first_us, last_us, _lines([*kept, *new][-MAX_LATEST:]), failure_id))
    conn.executemany(_COUNT_AGAIN, updates)


def _arrival(doc: bytes) -> bytes:
    """The JSON of the arrival a failure document describes (read exactly: pydantic keeps huge integers)."""
    return serial.dumps(serial.loads(Arrival, doc))


def _elements(lines: bytes) -> list[bytes]:
    """The exact JSON of each arrival in a stored ``latest`` column (one per line: compact JSON never holds
    a newline byte, so splitting needs no parsing, and nothing is re-encoded)."""
    return lines.split(b"\n")


def _lines(elements: list[bytes]) -> bytes:
    return b"\n".join(elements)


def report(rows: Rows, existing: Existing) -> WriteReport:
    """The write's report: ids newly stored, and ids found stored."""
    records, failures = existing
    return WriteReport(
        new_records={row[0] for row in rows.records} - records.keys(),
        existing_records=records,
        new_failures={row[0] for row in rows.failures} - failures,
        existing_failures=failures,
        counted_arrivals={row[0]: row[1] for row in rows.counted},
    )


def _lookup(conn: sqlite3.Connection, select: str, column: str, rows: list[Row]) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = []
    for start in range(0, len(rows), _CHUNK):
        chunk = [row[0] for row in rows[start : start + _CHUNK]]
        marks = ",".join("?" * len(chunk))
        found.extend(conn.execute(f"{select} WHERE {column} IN ({marks})", chunk).fetchall())
    return found
