"""The indexes of the record and failure collections, and the newest-first order the failure ones serve.

Sent with ``createIndexes`` (idempotent: an existing identical index is left alone) by
:class:`~sigma_aetl.stores.mongo.layout.Layout`. The unique indexes on the ids are what make every retry,
redelivery or replay a no-op; docs/mongodb.md says why each of the others exists.
"""

from pymongo import ASCENDING, DESCENDING, IndexModel

NEWEST = [("received_at", DESCENDING), ("received_us", DESCENDING), ("failure_id", DESCENDING)]
"""Newest first, exact to the microsecond, ties by failure id: the failure listing; time indexes end so."""

RECORD_INDEXES = [
    IndexModel([("record_id", ASCENDING)], name="record_id_unique", unique=True),
    IndexModel([("received_at", DESCENDING)], name="received_at_desc"),
]
FAILURE_INDEXES = [
    IndexModel(
        [("failure_id", ASCENDING)],
        name="failure_id_unique",
        unique=True,
        # partial: documents another tool wrote without a string failure id never collide on it
        partialFilterExpression={"failure_id": {"$type": "string"}},
    ),
    IndexModel(NEWEST, name="received_at_desc"),
    IndexModel([("version", ASCENDING), *NEWEST], name="version_received_at"),
    IndexModel([("root_cause", ASCENDING), *NEWEST], name="root_cause_received_at"),
    IndexModel([("fields", ASCENDING), *NEWEST], name="fields_received_at"),
    # a purge reads a class's first failures along it (``classes.py``)
    IndexModel(
        [("class_id", ASCENDING), ("received_us", ASCENDING), ("failure_id", ASCENDING)], name="class"
    ),
    IndexModel([("source.topic", ASCENDING), ("source.offset", ASCENDING)], name="kafka_offset", sparse=True),
]
