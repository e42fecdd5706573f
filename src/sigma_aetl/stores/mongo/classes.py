"""Failure classes and producer activity in MongoDB: their collections, kept by writes and purges.

    sigma_aetl_failure_classes     one document per class: {"_id": class id, signature, count, occurrences,
                                   first: "<µs, 20 digits> <failure id>", last_seen_us, samples,
                                   producers: {escaped label: failures}, counted_by}
    sigma_aetl_producer_activity   one per (contract, version, producer label): accepted, first_us, last_us
    sigma_aetl_meta                {"_id": "classes", "version": 1} once every stored failure is counted

MongoDB has no transaction here, so the order makes the guarantee: a write stores its records and failures
first (each failure document carries its ``class_id``), then adds one update per class it touched — its
new failures (``WriteReport.new_failures``, which counts a retry's own earlier landing as new) and the
arrivals it counted. Each class update carries the write's token and skips a class that token already
counted (``counted_by``, as failure documents do), so a transient error retried counts nothing twice. A
process killed between the two steps leaves those failures out of their classes' counts (a retry finds
them stored, not new): never counted twice, and a purge or rebuild recounts from the failures.

A producer label is a key of ``producers`` with ``%``, ``.`` and ``$`` percent-encoded (a field name may
hold neither a dot nor a leading dollar); the ``producer`` filter asks for that key above zero, unindexed:
it reads the class documents, never the failures (``$addToSet``, which an indexed array of labels would
need, is not implemented by nx-27017, the test server).
"""

import contextlib
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from sigma_aetl.core.classes import MAX_SAMPLES
from sigma_aetl.core.records import AcceptedRecord
from sigma_aetl.stores.arrivals import Arrivals
from sigma_aetl.stores.base import WriteReport, micros
from sigma_aetl.stores.classes import (
    ActivityDelta,
    ClassDelta,
    ClassMeta,
    failure_producers,
    fields_of,
    record_producers,
    source_producers,
)
from sigma_aetl.stores.mongo.errors import retrying
from sigma_aetl.stores.mongo.layout import Layout

CLASSES = "sigma_aetl_failure_classes"
ACTIVITY = "sigma_aetl_producer_activity"
META = "sigma_aetl_meta"
VERSION = 1
COUNTED_BY = 10
"""How many of the latest writes that counted a class its document remembers."""
CLASS_INDEXES = [
    IndexModel([("count", DESCENDING), ("class_id", ASCENDING)], name="count_desc"),
    IndexModel([("last_seen_us", DESCENDING), ("class_id", ASCENDING)], name="last_seen_desc"),
    IndexModel([("contract", ASCENDING), ("version", ASCENDING)], name="contract_version"),
]
"""The orders end with ``class_id`` (the ``_id`` again: nx-27017 refuses ``_id`` in a compound index).
``fields`` is not indexed: nx-27017 stops matching an array's elements once it is, and a filter on it
reads class documents only, never failures."""
ACTIVITY_INDEXES = [IndexModel([("contract", ASCENDING), ("producer", ASCENDING)], name="contract_producer")]


def set_up(layout: Layout) -> None:
    """Build the class and activity collections' indexes (idempotent)."""
    layout.database[CLASSES].create_indexes(CLASS_INDEXES)
    layout.database[ACTIVITY].create_indexes(ACTIVITY_INDEXES)


def escape(label: str) -> str:
    """A producer label as a field name."""
    return label.replace("%", "%25").replace(".", "%2E").replace("$", "%24")


def unescape(key: str) -> str:
    """The producer label a field name holds."""
    return key.replace("%24", "$").replace("%2E", ".").replace("%25", "%")


def first_key(received_us: int, failure_id: str) -> str:
    """What ``$min`` compares for a class's first failure: earliest time, then smallest id."""
    return f"{received_us:020d} {failure_id}"


def keep(
    layout: Layout,
    meta: Mapping[str, ClassMeta],
    class_ids: Mapping[str, str],
    arrivals: Arrivals,
    report: WriteReport,
    *,
    token: str,
) -> None:
    """Add what one write stored to its classes (see the module docstring for the order)."""
    deltas: dict[str, ClassDelta] = {}
    for failure in arrivals.firsts:
        fid = failure.failure_id
        counted = arrivals.tallies.get(fid)
        delta = deltas.get(class_ids[fid])
        if delta is None:
            delta = deltas[class_ids[fid]] = ClassDelta()
        if fid in report.new_failures:
            received = micros(failure.received_at)
            occurrences = counted.count if counted is not None else 1
            last = counted.last_us if counted is not None else received
            delta.add_failure(fid, received, occurrences, last, failure_producers(failure))
        elif counted is not None:
            delta.add_arrivals(counted.count, counted.last_us)
    apply_deltas(layout.database[CLASSES], meta, deltas, token)


def apply_deltas(
    collection: Collection[Any], meta: Mapping[str, ClassMeta], deltas: dict[str, ClassDelta], token: str
) -> None:
    """One update per class, each skipped if ``token`` counted it already."""
    for class_id, delta in deltas.items():
        if delta.count or delta.occurrences:
            _apply_one(collection, meta[class_id], delta, token)


def _apply_one(collection: Collection[Any], meta: ClassMeta, delta: ClassDelta, token: str) -> None:
    class_id = meta[0]
    update: dict[str, Any] = {
        "$inc": {
            "count": delta.count,
            "occurrences": delta.occurrences,
            **{f"producers.{escape(label)}": n for label, n in delta.producers.items()},
        },
        "$max": {"last_seen_us": delta.last_us},
        "$push": {"counted_by": {"$each": [token], "$slice": -COUNTED_BY}},
    }
    if delta.samples:
        update["$push"]["samples"] = {"$each": delta.samples, "$slice": MAX_SAMPLES}
    if delta.first is not None:
        update["$min"] = {"first": first_key(*delta.first)}
        retrying(lambda: _ensure(collection, meta))
    where = {"_id": class_id, "counted_by": {"$nin": [token]}}
    retrying(lambda: collection.update_one(where, update))


def _ensure(collection: Collection[Any], meta: ClassMeta) -> None:
    """Insert the class's document, counting nothing yet, unless it exists (nx-27017 applies no ``$inc``
    of a nested field on the insert of an upsert, so the counts always come by an update)."""
    class_id, ref, contract, version, cause, errors = meta
    empty = {
        **{"class_id": class_id, "contract_ref": ref, "contract": contract, "version": version},
        **{"root_cause": cause, "errors": orjson.loads(errors), "fields": fields_of(errors)},
        **{"count": 0, "occurrences": 0, "first": _NEVER, "last_seen_us": 0, "samples": [], "producers": {}},
        "counted_by": [],
    }
    with contextlib.suppress(DuplicateKeyError):  # another writer inserted it at the same moment
        collection.update_one({"_id": class_id}, {"$setOnInsert": empty}, upsert=True)


_NEVER = first_key(10**19, "")
"""``first`` of a class no failure has counted in yet: after every real one, so ``$min`` replaces it."""


def keep_activity(layout: Layout, records: Sequence[AcceptedRecord], token: str) -> None:
    """Add a write's new accepted records to producer activity, one update per (contract, version,
    producer), each skipped if ``token`` counted it already."""
    deltas: dict[tuple[str, int, str], ActivityDelta] = {}
    for record in records:
        for label in record_producers(record):
            key = (record.contract, record.version, label)
            delta = deltas.get(key)
            if delta is None:
                delta = deltas[key] = ActivityDelta()
            delta.add(micros(record.received_at))
    add_activity(layout.database[ACTIVITY], deltas, token)


def add_activity(
    collection: Collection[Any], deltas: dict[tuple[str, int, str], ActivityDelta], token: str
) -> None:
    """Upsert each (contract, version, producer)'s delta, once per ``token``."""
    for (contract, version, producer), delta in deltas.items():
        where = {"_id": f"{contract}\x1f{version}\x1f{producer}", "counted_by": {"$nin": [token]}}
        update = {
            "$inc": {"accepted": delta.accepted},
            "$min": {"first_us": delta.first_us},
            "$max": {"last_us": delta.last_us},
            "$setOnInsert": {"contract": contract, "version": version, "producer": producer},
            "$push": {"counted_by": {"$each": [token], "$slice": -COUNTED_BY}},
        }

        def attempt(where: dict[str, Any] = where, update: dict[str, Any] = update) -> None:
            try:
                collection.update_one(where, update, upsert=True)
            except DuplicateKeyError:
                collection.update_one(where, update)

        retrying(attempt)


def forget(layout: Layout, deleted: list[dict[str, Any]]) -> None:
    """Take purged failure documents (``class_id``, ``failure_id``, occurrences fields, ``doc``) out of
    their classes: counts go down, an empty class disappears, and a first failure, last seen or sample
    that was purged is read again from the failures left (along their ``class_id`` index)."""
    gone: dict[str, ClassDelta] = {}
    ids: dict[str, set[str]] = {}
    for doc in deleted:
        class_id = doc.get("class_id")
        if not isinstance(class_id, str):
            continue
        delta = gone.setdefault(class_id, ClassDelta())
        delta.count += 1
        delta.occurrences += doc.get("occurrences", 0) + 1 - doc.get("first_counted", 0)
        delta.last_us = max(delta.last_us, doc.get("last_seen_us") or doc["received_us"])
        delta.producers.update(_doc_producers(doc))
        ids.setdefault(class_id, set()).add(doc["failure_id"])
    collection = layout.database[CLASSES]
    for class_id, delta in gone.items():
        _forget_one(layout, collection, class_id, delta, ids[class_id])


def _doc_producers(doc: dict[str, Any]) -> tuple[str, ...]:
    """The producer labels of a stored failure, from its exact JSON (``source`` holds only scalars)."""
    source = orjson.loads(doc["doc"]).get("source")
    return source_producers(source if isinstance(source, dict) else {})


def _forget_one(
    layout: Layout, collection: Collection[Any], class_id: str, delta: ClassDelta, ids: set[str]
) -> None:
    stored = collection.find_one({"_id": class_id})
    if stored is None:
        return
    if stored["count"] <= delta.count:
        collection.delete_one({"_id": class_id})
        return
    update: dict[str, Any] = {
        "$inc": {
            "count": -delta.count,
            "occurrences": -delta.occurrences,
            **{f"producers.{escape(label)}": -n for label, n in delta.producers.items()},
        },
    }
    refreshed = _refreshed(layout, class_id, stored, delta, ids)
    if refreshed:
        update["$set"] = refreshed
    collection.update_one({"_id": class_id}, update)
    left = collection.find_one({"_id": class_id}, {"producers": 1})
    empty = [key for key, n in ((left or {}).get("producers") or {}).items() if n <= 0]
    if empty:
        collection.update_one({"_id": class_id}, {"$unset": {f"producers.{key}": "" for key in empty}})


def _refreshed(
    layout: Layout, class_id: str, stored: dict[str, Any], delta: ClassDelta, ids: set[str]
) -> dict[str, Any]:
    """The class fields a purge must read again from the failures left."""
    left = layout.failure_collections(None)
    where = {"class_id": class_id}
    fresh: dict[str, Any] = {}
    if stored["first"].partition(" ")[2] in ids:
        docs = [
            doc
            for c in left
            for doc in c.find(where, {"received_us": 1, "failure_id": 1})
            .sort([("class_id", ASCENDING), ("received_us", ASCENDING), ("failure_id", ASCENDING)])
            .limit(1)
        ]
        first = min(first_key(doc["received_us"], doc["failure_id"]) for doc in docs)
        fresh["first"] = first
    if delta.last_us >= stored["last_seen_us"]:
        fresh["last_seen_us"] = max(
            max(doc.get("last_seen_us") or doc["received_us"], doc["received_us"])
            for c in left
            for doc in c.find(where, {"received_us": 1, "last_seen_us": 1})
        )
    if ids.intersection(stored.get("samples", [])):
        docs = [
            doc
            for c in left
            for doc in c.find(where, {"received_us": 1, "failure_id": 1})
            .sort([("class_id", ASCENDING), ("received_us", ASCENDING), ("failure_id", ASCENDING)])
            .limit(MAX_SAMPLES)
        ]
        docs.sort(key=lambda doc: (doc["received_us"], doc["failure_id"]))
        fresh["samples"] = [doc["failure_id"] for doc in docs[:MAX_SAMPLES]]
    return fresh
