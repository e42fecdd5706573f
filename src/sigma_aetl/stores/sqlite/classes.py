"""Failure classes and producer activity in SQLite: their tables, and how a write or a purge keeps them.

    failure_classes    one row per class: its signature, counts, first and last seen, samples
    class_fields       (normalised field path, class id): the ``field`` filter
    class_producers    (class id, producer label, failures): counts per producer, and the ``producer`` filter
    producer_activity  (contract, version, producer label): accepted records, first and last ``received_at``

A write touches one row per class (and per producer of a class, and per producer of its new records),
however many failures it holds: the deltas are summed first (``stores/classes.py``), then merged into the
rows found, in the write's own transaction — a failure and its class's count commit together or not at
all. Reads are in ``class_queries.py``, the build of an older store's classes in ``class_migration.py``.
"""

import sqlite3
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from sigma_aetl.core.classes import MAX_SAMPLES
from sigma_aetl.stores.classes import ActivityDelta, ClassDelta, ClassMeta, fields_of, merged_samples
from sigma_aetl.stores.sqlite.lookups import by_keys

SCHEMA = """
CREATE TABLE IF NOT EXISTS failure_classes (
    class_id         TEXT PRIMARY KEY,
    contract_ref     TEXT NOT NULL,
    contract         TEXT,
    version          INTEGER,
    root_cause       TEXT NOT NULL,
    errors           TEXT NOT NULL,
    count            INTEGER NOT NULL,
    occurrences      INTEGER NOT NULL,
    first_seen       INTEGER NOT NULL,
    first_failure_id TEXT NOT NULL,
    last_seen        INTEGER NOT NULL,
    samples          TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS classes_count ON failure_classes (count DESC, class_id);
CREATE INDEX IF NOT EXISTS classes_last_seen ON failure_classes (last_seen DESC, class_id);
CREATE TABLE IF NOT EXISTS class_fields (
    path     TEXT NOT NULL,
    class_id TEXT NOT NULL,
    PRIMARY KEY (path, class_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS class_producers (
    class_id TEXT NOT NULL,
    producer TEXT NOT NULL,
    failures INTEGER NOT NULL,
    PRIMARY KEY (class_id, producer)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS class_producers_by ON class_producers (producer, class_id);
CREATE TABLE IF NOT EXISTS producer_activity (
    contract TEXT NOT NULL,
    version  INTEGER NOT NULL,
    producer TEXT NOT NULL,
    accepted INTEGER NOT NULL,
    first_us INTEGER NOT NULL,
    last_us  INTEGER NOT NULL,
    PRIMARY KEY (contract, version, producer)
) WITHOUT ROWID;
"""

Row = tuple[Any, ...]
_UPSERT_CLASS = (
    "INSERT OR REPLACE INTO failure_classes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"  # merged in Python
)
_ADD_PRODUCER = (
    "INSERT INTO class_producers VALUES (?, ?, ?) "
    "ON CONFLICT (class_id, producer) DO UPDATE SET failures = failures + excluded.failures"
)
_ADD_ACTIVITY = (
    "INSERT INTO producer_activity VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (contract, version, producer) DO UPDATE SET accepted = accepted + excluded.accepted, "
    "first_us = min(first_us, excluded.first_us), last_us = max(last_us, excluded.last_us)"
)


def keep(
    conn: sqlite3.Connection,
    meta: Mapping[str, ClassMeta],
    producers: Mapping[str, tuple[str, ...]],
    fresh: list[Row],
    again: list[tuple[str, int, int]],
) -> None:
    """Add a write's new failure rows (``fresh``, as ``rows.py`` builds them) and the arrivals it counted on
    failures stored already (``again``: class id, arrivals, last µs) to their classes."""
    if not fresh and not again:
        return
    members: dict[str, list[Row]] = {}
    for row in fresh:
        found = members.get(row[12])
        if found is None:
            members[row[12]] = [row]
        else:
            found.append(row)
    deltas = {class_id: _summed(rows, producers) for class_id, rows in members.items()}
    for class_id, count, last_us in again:
        deltas.setdefault(class_id, ClassDelta()).add_arrivals(count, last_us)
    apply_deltas(conn, meta, deltas)


def _summed(rows: list[Row], producers: Mapping[str, tuple[str, ...]]) -> ClassDelta:
    """One class's new failure rows as one delta, with builtins over the rows rather than a call each (the
    failure path's cost: a transaction of failures of one kind is one list here)."""
    return ClassDelta(
        count=len(rows),
        occurrences=sum(row[8] for row in rows),
        first=min((row[6], row[0]) for row in rows),
        last_us=max(row[6] if row[10] is None else max(row[10], row[6]) for row in rows),
        samples=[row[0] for row in rows[:MAX_SAMPLES]],
        producers=Counter(label for row in rows for label in producers.get(row[0], ())),
    )


def apply_deltas(
    conn: sqlite3.Connection, meta: Mapping[str, ClassMeta], deltas: dict[str, ClassDelta]
) -> None:
    """Merge ``deltas`` into the class rows (one read and one write per class). Call in a transaction."""
    stored = {row[0]: row for row in _rows(conn, sorted(deltas))}
    rows: list[Row] = []
    for class_id, delta in deltas.items():
        row = stored.get(class_id)
        if row is None and delta.first is None:  # arrivals for a class no failure of which is stored
            continue
        rows.append(_merged(meta[class_id] if row is None else row[:6], row, delta))
        if row is None:
            paths = fields_of(meta[class_id][5])
            conn.executemany(
                "INSERT OR IGNORE INTO class_fields VALUES (?, ?)", [(p, class_id) for p in paths]
            )
    conn.executemany(_UPSERT_CLASS, rows)
    conn.executemany(
        _ADD_PRODUCER,
        [(cid, label, n) for cid, delta in deltas.items() for label, n in delta.producers.items()],
    )


def _merged(signature: tuple[Any, ...], row: Row | None, delta: ClassDelta) -> Row:
    """The class row after ``delta``: ``row`` (None: a new class) plus what the write brings."""
    if row is None:
        assert delta.first is not None
        first_us, first_id = delta.first
        return (
            *signature,
            delta.count,
            delta.occurrences,
            first_us,
            first_id,
            delta.last_us,
            _json(delta.samples),
        )
    count, occurrences, first_us, first_id, last_us, samples = row[6:]
    if delta.first is not None and delta.first < (first_us, first_id):
        first_us, first_id = delta.first
    kept = merged_samples(orjson.loads(samples), delta.samples)
    return (
        *signature,
        count + delta.count,
        occurrences + delta.occurrences,
        first_us,
        first_id,
        max(last_us, delta.last_us),
        _json(kept),
    )


def keep_activity(
    conn: sqlite3.Connection, producers: Mapping[str, tuple[str, ...]], records: list[Row]
) -> None:
    """Add a write's new record rows (id, contract, version, …, received µs at 5) to producer activity."""
    if not records:
        return
    deltas: dict[tuple[str, int, str], ActivityDelta] = {}
    for row in records:
        for label in producers.get(row[0], ()):
            key = (row[1], row[2], label)
            delta = deltas.get(key)
            if delta is None:
                delta = deltas[key] = ActivityDelta()
            delta.add(row[5])
    add_activity(conn, deltas)


def add_activity(conn: sqlite3.Connection, deltas: dict[tuple[str, int, str], ActivityDelta]) -> None:
    """Upsert each (contract, version, producer)'s delta. Call in a transaction."""
    conn.executemany(_ADD_ACTIVITY, [(*key, d.accepted, d.first_us, d.last_us) for key, d in deltas.items()])


def forget(
    conn: sqlite3.Connection, deleted: Iterable[tuple[str | None, str, int, int, tuple[str, ...]]]
) -> None:
    """Take purged failures (class id, failure id, occurrences, last µs, producers) out of their classes:
    counts go down, a class left empty disappears, and its first failure, last seen and samples are read
    again from the failures left when a purged one held them. Call in the purge's transaction."""
    gone: dict[str, ClassDelta] = {}
    ids: dict[str, set[str]] = {}
    for class_id, failure_id, occurrences, last_us, producers in deleted:
        if class_id is None:  # not counted in a class (nothing to take out)
            continue
        delta = gone.setdefault(class_id, ClassDelta())
        delta.count += 1
        delta.occurrences += occurrences
        delta.last_us = max(delta.last_us, last_us)
        delta.producers.update(producers)
        ids.setdefault(class_id, set()).add(failure_id)
    for row in _rows(conn, sorted(gone)):
        _forget_one(conn, row, gone[row[0]], ids[row[0]])


def _forget_one(conn: sqlite3.Connection, row: Row, delta: ClassDelta, ids: set[str]) -> None:
    class_id = row[0]
    count, occurrences, first_us, first_id, last_us, samples = row[6:]
    if count <= delta.count:
        for table in ("failure_classes", "class_fields", "class_producers"):
            conn.execute(f"DELETE FROM {table} WHERE class_id = ?", (class_id,))
        return
    if first_id in ids:
        first_us, first_id = conn.execute(
            "SELECT received_at, failure_id FROM failures WHERE class_id = ? "
            "ORDER BY received_at, failure_id LIMIT 1",
            (class_id,),
        ).fetchone()
    if delta.last_us >= last_us:
        last_us = conn.execute(
            "SELECT max(coalesce(last_seen, received_at)) FROM failures WHERE class_id = ?", (class_id,)
        ).fetchone()[0]
    kept = orjson.loads(samples)
    if ids.intersection(kept):
        found = conn.execute(
            "SELECT failure_id FROM failures WHERE class_id = ? ORDER BY received_at, rowid LIMIT ?",
            (class_id, MAX_SAMPLES),
        )
        kept = [failure_id for (failure_id,) in found]
    conn.execute(
        "UPDATE failure_classes SET count = ?, occurrences = ?, first_seen = ?, first_failure_id = ?, "
        "last_seen = ?, samples = ? WHERE class_id = ?",
        (
            count - delta.count,
            occurrences - delta.occurrences,
            first_us,
            first_id,
            last_us,
            _json(kept),
            class_id,
        ),
    )
    conn.executemany(
        "UPDATE class_producers SET failures = failures - ? WHERE class_id = ? AND producer = ?",
        [(n, class_id, label) for label, n in delta.producers.items()],
    )
    conn.execute("DELETE FROM class_producers WHERE class_id = ? AND failures <= 0", (class_id,))


def _rows(conn: sqlite3.Connection, class_ids: list[str]) -> list[Row]:
    return by_keys(conn, "SELECT * FROM failure_classes", "class_id", class_ids)


def _json(samples: list[str]) -> str:
    return orjson.dumps(samples).decode()
