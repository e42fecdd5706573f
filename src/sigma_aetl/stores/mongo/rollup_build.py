"""Building the analytics roll-ups of a MongoDB store made before them.

Once, when the store is opened for writing (``MongoStore.__init__``, after the class build): every record
and failure document without ``rolled`` (written before the roll-ups existed) is claimed in batches of
:data:`BATCH` (``update_many`` sets the batch's own token on those still unclaimed, then reads back which
it got), counted into the roll-ups with that token and marked ``rolled``. Two processes building at once
claim disjoint documents, and a write since the roll-ups exist marks its own documents, so each is
counted once. ``sigma_aetl_meta`` records the build as done; a store opened read-only before it answers
analytics with a StoreError saying what to run. A process killed mid-batch leaves that batch claimed and
uncounted (never counted twice).
"""

import uuid
from typing import Any

import orjson
from pymongo.collection import Collection

from sigma_aetl.stores.classes import source_producers
from sigma_aetl.stores.mongo import builds, rollups
from sigma_aetl.stores.mongo.layout import Layout
from sigma_aetl.stores.rollups import Rollup

BATCH = 1000
"""Documents claimed and counted per step."""
VERSION = 1
_CLAIM = "rollup_build"
_FIELDS = {"doc": 1, "contract": 1, "version": 1, "contract_ref": 1, "class_id": 1, "received_us": 1}


def ready(layout: Layout) -> bool:
    """Whether the build has run (see ``builds.py``)."""
    return builds.done(layout, "analytics", VERSION)


def require(layout: Layout) -> None:
    """Raise StoreError unless :func:`ready` (or the store holds nothing at all)."""
    builds.require(
        layout, "analytics", VERSION, what="failure analytics", source="stored records and failures"
    )


def build(layout: Layout) -> None:
    """Count every record and failure stored before the roll-ups into them, once."""
    if ready(layout):
        return
    for collection in layout.failure_collections(None):
        while _batch(layout, collection, failures=True):
            pass
    for name in layout.names():
        while _batch(layout, layout.records(name), failures=False):
            pass
    builds.mark_done(layout, "analytics", VERSION)


def _batch(layout: Layout, collection: Collection[Any], *, failures: bool) -> bool:
    """Claim, count and mark the next batch of unrolled documents; False once none is left."""
    unclaimed = {"rolled": {"$exists": False}, _CLAIM: {"$exists": False}}
    ids = [doc["_id"] for doc in collection.find(unclaimed, {"_id": 1}).limit(BATCH)]
    if not ids:
        return False
    token = uuid.uuid4().hex
    collection.update_many({**unclaimed, "_id": {"$in": ids}}, {"$set": {_CLAIM: token}})
    docs = list(collection.find({_CLAIM: token}, _FIELDS))
    rollup = Rollup()
    for doc in docs:
        source = orjson.loads(doc["doc"]).get("source")
        labels = source_producers(source if isinstance(source, dict) else {})
        if not failures:
            rollup.add_record(doc["contract"], doc["version"], doc["received_us"], labels)
        elif isinstance(doc.get("class_id"), str):  # a failure the class build could not count: none here
            rollup.add_failure(doc["contract_ref"], doc["class_id"], doc["received_us"], labels)
    rollups.apply(layout, rollup, token)
    collection.update_many({_CLAIM: token}, {"$set": {"rolled": 1}, "$unset": {_CLAIM: ""}})
    return True
