"""The SQLite write, applied in the writer's process: the rows :func:`~sigma_aetl.stores.sqlite.rows.rows_of`
built in the caller's process, looked up, inserted and counted inside the writer's transaction.

:func:`apply` looks up which ids exist, inserts the rest, adds the tallied arrivals to the failures already
stored, and keeps the class tables and roll-ups, all inside the caller's transaction.
"""

import sqlite3

from sigma_aetl.core import serial
from sigma_aetl.core.records import MAX_LATEST, Arrival
from sigma_aetl.stores.sqlite import classes, paths, rollups
from sigma_aetl.stores.sqlite.lookups import by_ids
from sigma_aetl.stores.sqlite.rows import Existing, Row, Rows, lines


def apply(conn: sqlite3.Connection, rows: Rows) -> Existing:
    """Insert every row whose id is not stored yet; return what was already there. Call in a transaction."""
    records: dict[str, str] = dict(
        by_ids(conn, "SELECT record_id, content_hash FROM records", "record_id", rows.records)
    )
    failures = {
        row[0] for row in by_ids(conn, "SELECT failure_id FROM failures", "failure_id", rows.failures)
    }
    # first, in the same transaction: no reader sees a record without the headers it names
    conn.executemany("INSERT OR IGNORE INTO request_headers VALUES (?, ?)", rows.headers)
    new_records = [row for row in rows.records if row[0] not in records] if records else rows.records
    conn.executemany("INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?)", new_records)
    fresh = [row for row in rows.failures if row[0] not in failures] if failures else rows.failures
    conn.executemany(INSERT_FAILURE, fresh)
    fields = [field for field in rows.fields if field[1] not in failures] if failures else rows.fields
    paths.insert(conn, fields, fresh)
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


INSERT_FAILURE = (
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
    stored = dict(by_ids(conn, "SELECT failure_id, latest FROM failures", "failure_id", counted))
    documents = {row[0]: row[7] for row in written} if any(row[4] is None for row in counted) else {}
    updates = []
    for failure_id, count, first_us, last_us, latest in counted:
        before = stored[failure_id]
        kept = _elements(before) if before is not None else []
        new = latest if latest is not None else [_arrival(documents[failure_id])]
        updates.append((count, first_us, last_us, lines([*kept, *new][-MAX_LATEST:]), failure_id))
    conn.executemany(_COUNT_AGAIN, updates)


def _arrival(doc: bytes) -> bytes:
    """The JSON of the arrival a failure document describes (read exactly: pydantic keeps huge integers)."""
    return serial.dumps(serial.loads(Arrival, doc))


def _elements(lines: bytes) -> list[bytes]:
    """The exact JSON of each arrival in a stored ``latest`` column (one per line: compact JSON never holds
    a newline byte, so splitting needs no parsing, and nothing is re-encoded)."""
    return lines.split(b"\n")
