"""The analytics roll-ups in MongoDB: their collections, kept by writes and purges.

    sigma_aetl_traffic_minutes    {"_id": "minute␟contract␟version", minute, contract, version, accepted,
                                   failed, counted_by}
    sigma_aetl_failure_minutes    {"_id": "minute␟class id", minute, class_id, failures, counted_by}
    sigma_aetl_failure_hours      {"_id": "hour␟class id", hour, class_id, failures, counted_by}
    sigma_aetl_producer_minutes   {"_id": "minute␟contract␟version␟producer", ..., accepted, failed}

(``␟`` is the unit separator, U+001F; ``minute`` the integer µs of a UTC minute's start; what counts is in
``stores/rollups.py``.) As for failure classes, MongoDB has no transaction here, so the order makes the
guarantee: a write stores its records and failures first, then adds one upsert per roll-up key it touched,
in one unordered bulk write per collection, for the ids it stored anew (``WriteReport``). Each upsert
carries the write's token and skips a document that token already counted (``counted_by``), so a write
retried after a transient error counts nothing twice; a process killed between the two steps leaves
those rows uncounted (never counted twice). A record or failure document written since the roll-ups
exist carries ``rolled: 1``: the build of an older store (``rollup_build.py``) counts only the others.
A purge takes its failures out (``$inc`` by minus their counts) and deletes a document left at zero.
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson
from pymongo import ASCENDING, DESCENDING, IndexModel, UpdateOne
from pymongo.collection import Collection
from pymongo.errors import BulkWriteError

from sigma_aetl.core.records import AcceptedRecord, FailureRecord
from sigma_aetl.stores.base import micros
from sigma_aetl.stores.classes import failure_producers, record_producers, source_producers
from sigma_aetl.stores.mongo.classes import CLASSES, COUNTED_BY
from sigma_aetl.stores.mongo.errors import retrying
from sigma_aetl.stores.mongo.layout import Layout
from sigma_aetl.stores.rollups import Rollup

Doc = dict[str, Any]
TRAFFIC = "sigma_aetl_traffic_minutes"
FAILURES = "sigma_aetl_failure_minutes"
FAILURE_HOURS = "sigma_aetl_failure_hours"
PRODUCERS = "sigma_aetl_producer_minutes"
_SEP = "\x1f"
_DUPLICATE_KEY = {11000, 11001, 12582}
_FIELDS = {
    TRAFFIC: ("minute", "contract", "version"),
    FAILURES: ("minute", "class_id"),
    FAILURE_HOURS: ("hour", "class_id"),
    PRODUCERS: ("minute", "contract", "version", "producer"),
}


def set_up(layout: Layout) -> None:
    """Build the roll-ups' indexes, and the class index new classes are read along (idempotent)."""
    for name, fields in _FIELDS.items():
        layout.database[name].create_indexes([IndexModel([(fields[0], ASCENDING)], name=fields[0])])
    first = IndexModel([("first", DESCENDING), ("class_id", ASCENDING)], name="first_desc")
    layout.database[CLASSES].create_indexes([first])


def keep(
    layout: Layout,
    records: Sequence[AcceptedRecord],
    failures: Sequence[FailureRecord],
    class_ids: Mapping[str, str],
    token: str,
) -> None:
    """Add a write's new records and failures to the roll-ups, once per ``token``."""
    rollup = Rollup()
    for record in records:
        rollup.add_record(
            record.contract, record.version, micros(record.received_at), record_producers(record)
        )
    for failure in failures:
        labels = failure_producers(failure)
        rollup.add_failure(
            failure.contract_ref, class_ids[failure.failure_id], micros(failure.received_at), labels
        )
    apply(layout, rollup, token)


def apply(layout: Layout, rollup: Rollup, token: str | None) -> None:
    """One upsert per key of ``rollup``; with a ``token``, each skipped where that token counted already."""
    database = layout.database
    _upsert(
        database[TRAFFIC],
        TRAFFIC,
        {k: {"accepted": a, "failed": f} for k, (a, f) in rollup.traffic.items()},
        token,
    )
    _upsert(database[FAILURES], FAILURES, {k: {"failures": n} for k, n in rollup.failures.items()}, token)
    hours = {k: {"failures": n} for k, n in rollup.failure_hours().items()}
    _upsert(database[FAILURE_HOURS], FAILURE_HOURS, hours, token)
    _upsert(
        database[PRODUCERS],
        PRODUCERS,
        {k: {"accepted": a, "failed": f} for k, (a, f) in rollup.producers.items()},
        token,
    )


def _upsert(
    collection: Collection[Any], name: str, incs: Mapping[tuple[Any, ...], dict[str, int]], token: str | None
) -> None:
    if not incs:
        return
    ops = [_op(name, key, inc, token) for key, inc in incs.items()]

    def attempt() -> None:
        try:
            collection.bulk_write([UpdateOne(*op, upsert=True) for op in ops], ordered=False)
        except BulkWriteError as exc:  # an upsert that lost a race to insert the same key: now an update
            errors = exc.details.get("writeErrors", [])
            if exc.details.get("writeConcernErrors") or any(
                e.get("code") not in _DUPLICATE_KEY for e in errors
            ):
                raise
            again = [UpdateOne(*ops[error["index"]]) for error in errors]
            collection.bulk_write(again, ordered=False)

    retrying(attempt)


def _op(name: str, key: tuple[Any, ...], inc: dict[str, int], token: str | None) -> tuple[Doc, Doc]:
    """The filter and update of one key's upsert."""
    where: Doc = {"_id": _id(key)}
    update: Doc = {"$inc": inc, "$setOnInsert": dict(zip(_FIELDS[name], key, strict=True))}
    if token is not None:
        where["counted_by"] = {"$nin": [token]}
        update["$push"] = {"counted_by": {"$each": [token], "$slice": -COUNTED_BY}}
    return where, update


def _id(key: tuple[Any, ...]) -> str:
    return _SEP.join(str(part) for part in key)


def forget(layout: Layout, deleted: Iterable[dict[str, Any]]) -> None:
    """Take purged failure documents (``class_id``, ``received_us``, ``doc``) out of the roll-ups."""
    rollup = Rollup()
    for doc in deleted:
        class_id = doc.get("class_id")
        if isinstance(class_id, str):
            stored = orjson.loads(doc["doc"])
            source = stored.get("source")
            labels = source_producers(source if isinstance(source, dict) else {})
            rollup.add_failure(stored["contract_ref"], class_id, doc["received_us"], labels, n=-1)
    if not rollup:
        return
    apply(layout, rollup, None)
    touched: list[tuple[str, Iterable[tuple[Any, ...]]]] = [
        (TRAFFIC, rollup.traffic),
        (FAILURES, rollup.failures),
        (FAILURE_HOURS, rollup.failure_hours()),
        (PRODUCERS, rollup.producers),
    ]
    for name, keys in touched:
        counts = {"failures": {"$lte": 0}} if name in (FAILURES, FAILURE_HOURS) else {}
        empty = counts or {"accepted": {"$lte": 0}, "failed": {"$lte": 0}}
        _drop_empty(layout.database[name], [_id(key) for key in keys], empty)


def _drop_empty(collection: Collection[Any], ids: list[str], empty: Doc) -> None:
    """Delete the documents among ``ids`` that count nothing any more."""
    retrying(lambda: collection.delete_many({"_id": {"$in": ids}, **empty}))
