"""Building the failure classes and producer activity of a MongoDB store made before they existed.

Once, when the store is opened for writing (``MongoStore.__init__``): each failure collection's documents
without a ``class_id`` are claimed in batches of :data:`BATCH` (``update_many`` sets the batch's own token
on those still unclaimed, then reads back which it got), given their ``class_id`` and counted into their
classes; each contract's records without ``producers`` likewise into producer activity. Two processes
building at once claim disjoint documents, so each is counted once. ``sigma_aetl_meta`` records the build
as done; a store opened read-only before it answers class queries with a StoreError saying what to run.

A process killed mid-batch leaves that batch claimed and uncounted (never counted twice).
"""

import uuid
from typing import Any

import orjson
from pymongo.collection import Collection

from sigma_aetl.core import serial
from sigma_aetl.core.records import FailureRecord
from sigma_aetl.stores.classes import ActivityDelta, ClassDelta, Classifier, source_producers
from sigma_aetl.stores.mongo import builds
from sigma_aetl.stores.mongo.classes import ACTIVITY, CLASSES, VERSION, add_activity, apply_deltas
from sigma_aetl.stores.mongo.layout import Layout

BATCH = 1000
"""Documents claimed and counted per step."""
_CLAIM = "class_build"
_FAILURE_FIELDS = {"_id": 0, "failure_id": 1, "doc": 1, "occurrences": 1, "first_counted": 1}
_FAILURE_FIELDS |= {"received_us": 1, "last_seen_us": 1}


def ready(layout: Layout) -> bool:
    """Whether the build has run (see ``builds.py``)."""
    return builds.done(layout, "classes", VERSION)


def require(layout: Layout) -> None:
    """Raise StoreError unless :func:`ready` (or the store holds nothing at all)."""
    builds.require(layout, "classes", VERSION, what="failure classes", source="stored failures")


def build(layout: Layout) -> None:
    """Count every stored failure into its class and every record into producer activity, once."""
    if ready(layout):
        return
    for collection in layout.failure_collections(None):
        while _failures_batch(layout, collection):
            pass
    for name in layout.names():
        while _records_batch(layout, layout.records(name)):
            pass
    builds.mark_done(layout, "classes", VERSION)


def _claimed(collection: Collection[Any], missing: str, fields: dict[str, int]) -> tuple[str, list[Any]]:
    """Claim up to BATCH documents without ``missing``; return the token and the documents claimed."""
    unclaimed = {missing: {"$exists": False}, _CLAIM: {"$exists": False}}
    ids = [doc["_id"] for doc in collection.find(unclaimed, {"_id": 1}).limit(BATCH)]
    if not ids:
        return "", []
    token = uuid.uuid4().hex
    collection.update_many({**unclaimed, "_id": {"$in": ids}}, {"$set": {_CLAIM: token}})
    return token, list(collection.find({_CLAIM: token}, {**fields, "_id": 1}))


def _failures_batch(layout: Layout, collection: Collection[Any]) -> bool:
    token, docs = _claimed(collection, "class_id", _FAILURE_FIELDS)
    if not docs:
        return False
    classifier = Classifier()
    deltas: dict[str, ClassDelta] = {}
    members: dict[str, list[Any]] = {}
    for doc in docs:
        failure = serial.loads(FailureRecord, doc["doc"])
        class_id = classifier.class_of(failure)
        members.setdefault(class_id, []).append(doc["_id"])
        occurrences = doc.get("occurrences", 0) + 1 - doc.get("first_counted", 0)
        received = doc["received_us"]
        last = max(doc.get("last_seen_us") or received, received)
        producers = source_producers(failure.source)
        deltas.setdefault(class_id, ClassDelta()).add_failure(
            failure.failure_id, received, occurrences, last, producers
        )
    for class_id, ids in members.items():
        collection.update_many(
            {"_id": {"$in": ids}, _CLAIM: token}, {"$set": {"class_id": class_id}, "$unset": {_CLAIM: ""}}
        )
    apply_deltas(layout.database[CLASSES], classifier.meta, deltas, token)
    return True


def _records_batch(layout: Layout, collection: Collection[Any]) -> bool:
    token, docs = _claimed(collection, "producers", {"doc": 1, "contract": 1, "version": 1, "received_us": 1})
    if not docs:
        return False
    deltas: dict[tuple[str, int, str], ActivityDelta] = {}
    by_labels: dict[tuple[str, ...], list[Any]] = {}
    for doc in docs:
        source = orjson.loads(doc["doc"]).get("source")
        found = source_producers(source if isinstance(source, dict) else {})
        by_labels.setdefault(found, []).append(doc["_id"])
        for label in found:
            deltas.setdefault((doc["contract"], doc["version"], label), ActivityDelta()).add(
                doc["received_us"]
            )
    for found, ids in by_labels.items():
        collection.update_many(
            {"_id": {"$in": ids}, _CLAIM: token}, {"$set": {"producers": list(found)}, "$unset": {_CLAIM: ""}}
        )
    add_activity(layout.database[ACTIVITY], deltas, token)
    return True
