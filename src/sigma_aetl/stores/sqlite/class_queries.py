"""Reading failure classes and producer activity from SQLite: a page of classes, one class, one producer.

Every read is on the class tables alone (``classes.py``), never on ``failures``: a page costs the number
of classes that match, whatever the number of failures. The order is served by an index (count or last
seen, then the class id), the ``field`` and ``producer`` filters by their own tables' primary keys.
"""

import sqlite3
from typing import Any

import orjson

from sigma_aetl.core.classes import FailureClass
from sigma_aetl.core.taxonomy import RootCause
from sigma_aetl.stores.base import ClassPage, ClassQuery, ProducerActivity, from_micros, micros

_ORDER = {"count": "count DESC, class_id", "last_seen": "last_seen DESC, class_id"}
_COLUMNS = (
    "class_id, contract_ref, contract, version, root_cause, errors, count, occurrences, first_seen, "
    "first_failure_id, last_seen, samples"
)


def page(conn: sqlite3.Connection, query: ClassQuery) -> ClassPage:
    """The classes matching ``query``, in its order, a page at a time."""
    where, params = _filter(query)
    total = conn.execute(f"SELECT count(*) FROM failure_classes {where}", params).fetchone()[0]
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM failure_classes {where} ORDER BY {_ORDER[query.order]} LIMIT ? OFFSET ?",
        [*params, query.limit, query.offset],
    ).fetchall()
    producers = _producers(conn, [row[0] for row in rows])
    items = [_class_of(row, producers.get(row[0], {})) for row in rows]
    more = query.offset + len(items) < total
    return ClassPage(
        items=items,
        total=total,
        limit=query.limit,
        offset=query.offset,
        next_offset=query.offset + len(items) if more and items else None,
    )


def one(conn: sqlite3.Connection, class_id: str) -> FailureClass | None:
    """One class by id."""
    row = conn.execute(f"SELECT {_COLUMNS} FROM failure_classes WHERE class_id = ?", (class_id,)).fetchone()
    if row is None:
        return None
    return _class_of(row, _producers(conn, [class_id]).get(class_id, {}))


def first_seen_in(conn: sqlite3.Connection, since_us: int, until_us: int, limit: int) -> list[FailureClass]:
    """The classes first seen in ``[since_us, until_us)``, most recent first (``classes_first_seen``)."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM failure_classes WHERE first_seen >= ? AND first_seen < ? "
        "ORDER BY first_seen DESC, class_id LIMIT ?",
        (since_us, until_us, limit),
    ).fetchall()
    producers = _producers(conn, [row[0] for row in rows])
    return [_class_of(row, producers.get(row[0], {})) for row in rows]


def activity(conn: sqlite3.Connection, contract: str, producer: str) -> list[ProducerActivity]:
    """What ``producer`` had accepted under each version of ``contract``, oldest version first."""
    rows = conn.execute(
        "SELECT version, accepted, first_us, last_us FROM producer_activity "
        "WHERE contract = ? AND producer = ? ORDER BY version",
        (contract, producer),
    ).fetchall()
    return [
        ProducerActivity(
            contract=contract,
            version=version,
            producer=producer,
            accepted=accepted,
            first_accepted=from_micros(first_us),
            last_accepted=from_micros(last_us),
        )
        for version, accepted, first_us, last_us in rows
    ]


def _filter(query: ClassQuery) -> tuple[str, list[Any]]:
    conditions: list[tuple[str, Any]] = [
        ("contract = ?", query.contract),
        ("version = ?", query.version),
        ("root_cause = ?", query.root_cause.value if query.root_cause else None),
        ("class_id IN (SELECT class_id FROM class_fields WHERE path = ?)", query.field),
        ("class_id IN (SELECT class_id FROM class_producers WHERE producer = ?)", query.producer),
        ("last_seen >= ?", micros(query.since) if query.since else None),
    ]
    chosen = [(clause, value) for clause, value in conditions if value is not None]
    where = "WHERE " + " AND ".join(clause for clause, _ in chosen) if chosen else ""
    return where, [value for _, value in chosen]


def _producers(conn: sqlite3.Connection, class_ids: list[str]) -> dict[str, dict[str, int]]:
    if not class_ids:
        return {}
    marks = ",".join("?" * len(class_ids))
    rows = conn.execute(
        f"SELECT class_id, producer, failures FROM class_producers WHERE class_id IN ({marks}) "
        "ORDER BY class_id, failures DESC, producer",
        class_ids,
    )
    found: dict[str, dict[str, int]] = {}
    for class_id, producer, failures in rows:
        found.setdefault(class_id, {})[producer] = failures
    return found


def _class_of(row: tuple[Any, ...], producers: dict[str, int]) -> FailureClass:
    class_id, ref, contract, version, cause, errors, count, occurrences, first, first_id, last, samples = row
    return FailureClass(
        class_id=class_id,
        contract_ref=ref,
        contract=contract,
        version=version,
        root_cause=RootCause(cause),
        errors=tuple((path, kind) for path, kind in orjson.loads(errors)),
        count=count,
        occurrences=occurrences,
        first_seen=from_micros(first),
        last_seen=from_micros(last),
        first_failure_id=first_id,
        producers=producers,
        samples=tuple(orjson.loads(samples)),
    )
