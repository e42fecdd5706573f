"""The read queries: the failure filter, the newest-first merge of pages, keyset paging, counts, id lookups,
and the records stream.

A query over several failure collections (no contract filter) runs one indexed, newest-first cursor per
collection and merges them; each cursor reads at most ``offset + limit`` documents. The records stream
does the same in ``_id`` order, along each collection's ``_id`` index, below a settled horizon.
"""

import heapq
import itertools
from collections import Counter
from collections.abc import Generator, Iterable, Iterator
from datetime import datetime
from typing import Literal

from bson import ObjectId
from pymongo import ASCENDING
from pymongo.collection import Collection
from pymongo.cursor import Cursor

from sigma_aetl.core.records import StoredPayload
from sigma_aetl.stores.base import FailureFilter, FailurePurge, RecordQuery, micros
from sigma_aetl.stores.mongo.documents import FAILURE_FIELDS, Doc, raw_of, utc
from sigma_aetl.stores.mongo.errors import translate_errors
from sigma_aetl.stores.mongo.indexes import NEWEST

_PAGE_FIELDS = {**FAILURE_FIELDS, "received_us": 1, "failure_id": 1}
_STREAM_FIELDS = {"_id": 1, "doc": 1}
_BY_ID = [("_id", ASCENDING)]


def failure_filter(query: FailureFilter) -> Doc:
    """The ``find`` filter of a failure query, but its contract: the contract is the collection."""
    where: Doc = {}
    if query.version is not None:
        where["version"] = query.version
    if query.root_cause is not None:
        where["root_cause"] = query.root_cause.value
    if query.field is not None:
        where["fields"] = query.field
    return {**where, **_time_filter(query.since, query.until)}


def purge_filter(which: FailurePurge) -> Doc:
    """The ``find`` filter of a purge: the failure filter, and the last arrival before a bound (a failure
    that never counted a second arrival has no ``last_seen_us``: its ``received_us`` is its last)."""
    where = failure_filter(which)
    if which.last_seen_before is None:
        return where
    before = micros(which.last_seen_before)
    never_counted = {"last_seen_us": {"$exists": False}, "received_us": {"$lt": before}}
    return {**where, "$or": [{"last_seen_us": {"$lt": before}}, never_counted]}


def _time_filter(since: datetime | None, until: datetime | None) -> Doc:
    """Bounds on ``received_at`` (milliseconds, served by the indexes), made exact by ``received_us``."""
    at: Doc = {}
    us: Doc = {}
    if since is not None:
        at["$gte"], us["$gte"] = utc(since), micros(since)
    if until is not None:
        # BSON datetimes drop microseconds: a record before `until` can share its millisecond
        at["$lte"], us["$lt"] = utc(until), micros(until)
    return {"received_at": at, "received_us": us} if at else {}


def page(
    collections: list[Collection[Doc]], where: Doc, offset: int, limit: int
) -> Generator[Doc, None, None]:
    """One page of the newest-first merge of several collections' newest-first cursors, a document at a
    time as it is consumed (close it to close the cursors)."""
    skip = offset if len(collections) == 1 else 0
    cursors: list[Cursor[Doc]] = [
        collection.find(where, _PAGE_FIELDS).sort(NEWEST).skip(skip).limit(offset - skip + limit)
        for collection in collections
    ]
    try:
        merged = heapq.merge(*cursors, key=_newest_key, reverse=True)
        yield from itertools.islice(merged, offset - skip, offset - skip + limit)
    finally:
        for cursor in cursors:
            cursor.close()


def _newest_key(doc: Doc) -> tuple[int, str]:
    return doc["received_us"], doc["failure_id"]


def record_filter(query: RecordQuery) -> Doc:
    """The ``find`` filter of a records query, but its contract (the collection) and its ``_id`` range."""
    where: Doc = {"record_id": {"$type": "string"}}  # the gateway's own documents, not another tool's
    if query.version is not None:
        where["version"] = query.version
    return {**where, **_time_filter(query.since, query.until)}


def stream(
    collections: list[Collection[Doc]], where: Doc, after: ObjectId | None, horizon: ObjectId, count: int
) -> Generator[Doc, None, None]:
    """The first ``count`` documents with ``after < _id < horizon`` matching ``where``, in ``_id`` order,
    merged over ``collections``: one cursor each, along the ``_id`` index (hinted, so a time filter never
    turns it into an in-memory sort), reading at most ``count`` documents, one at a time as consumed."""
    ids: Doc = {"$lt": horizon} if after is None else {"$gt": after, "$lt": horizon}
    cursors: list[Cursor[Doc]] = [
        collection.find({**where, "_id": ids}, _STREAM_FIELDS).sort(_BY_ID).hint(_BY_ID).limit(count)
        for collection in collections
    ]
    try:
        yield from itertools.islice(heapq.merge(*cursors, key=_id_of), count)
    finally:
        for cursor in cursors:
            cursor.close()


def _id_of(doc: Doc) -> ObjectId:
    found: ObjectId = doc["_id"]
    return found


def payloads(collection: Collection[Doc], key: str, version: int, size: int) -> Iterator[list[StoredPayload]]:
    """Keyset paging on the unique id index: each batch starts after the last id of the one before."""
    kind: Literal["record", "failure"] = "record" if key == "record_id" else "failure"
    last = ""
    while True:
        where = {"version": version, key: {"$type": "string", "$gt": last}}
        with translate_errors():
            docs = list(collection.find(where, {"_id": 0, key: 1, "doc": 1}).sort(key, ASCENDING).limit(size))
        if not docs:
            return
        yield [StoredPayload(kind, doc[key], raw_of(doc["doc"])) for doc in docs]
        last = docs[-1][key]


def after_ids(collection: Collection[Doc], where: Doc, size: int) -> Iterator[list[Doc]]:
    """Failure documents matching ``where`` in ``_id`` order, ``size`` at a time: each batch starts after
    the last ``_id`` of the one before (hinted, so a time filter never turns it into an in-memory sort)."""
    last: ObjectId | None = None
    fields = {**FAILURE_FIELDS, "_id": 1}
    while True:
        ids = {} if last is None else {"_id": {"$gt": last}}
        with translate_errors():
            found = collection.find({**where, **ids}, fields).sort(_BY_ID).hint(_BY_ID).limit(size)
            docs = list(found)
        if not docs:
            return
        yield docs
        last = docs[-1]["_id"]


def count_by(collections: Iterable[Collection[Doc]], key: str) -> Counter[str]:
    """Documents counted by the value of one field (``"$contract_ref"``), summed over the collections.

    One field, not a compound ``_id``: nx-27017 does not evaluate ``{_id: {c: "$contract", v: "$version"}}``.
    """
    counts: Counter[str] = Counter()
    for collection in collections:
        for row in collection.aggregate([{"$group": {"_id": key, "n": {"$sum": 1}}}]):
            counts[str(row["_id"])] += int(row["n"])
    return counts


def count_by_cause(collections: Iterable[Collection[Doc]], where: Doc) -> Counter[str]:
    """Documents matching ``where``, counted by root cause, summed over the collections.

    Each cause counted apart (``distinct``, then ``count_documents``), not ``$match`` then ``$group``:
    nx-27017 groups nothing when the match tests an array (``fields``), where MongoDB groups the matches.
    """
    counts: Counter[str] = Counter()
    for collection in collections:
        for cause in collection.distinct("root_cause", where):
            counts[str(cause)] += collection.count_documents({**where, "root_cause": cause})
    return counts


def occurrences_by(collections: Iterable[Collection[Doc]], key: str) -> tuple[Counter[str], Counter[str]]:
    """Failure documents, and their arrivals, counted by the value of one field, summed over the collections.

    A document's arrivals are ``occurrences`` plus one for the arrival its ``doc`` holds, unless
    ``first_counted`` says ``occurrences`` counts that one too (see
    :mod:`~sigma_aetl.stores.mongo.documents`): summed per group as documents + occurrences -
    first_counted, each a plain ``$sum`` of a field.
    """
    documents: Counter[str] = Counter()
    arrivals: Counter[str] = Counter()
    group = {
        "_id": key,
        "n": {"$sum": 1},
        "counted": {"$sum": "$occurrences"},
        "firsts": {"$sum": "$first_counted"},
    }
    for collection in collections:
        for row in collection.aggregate([{"$group": group}]):
            documents[str(row["_id"])] += int(row["n"])
            # nx-27017 sums a field no document has to null, where MongoDB gives 0
            counted, firsts = int(row["counted"] or 0), int(row["firsts"] or 0)
            arrivals[str(row["_id"])] += int(row["n"]) + counted - firsts
    return documents, arrivals


def find_ids(collection: Collection[Doc], key: str, ids: list[str], extra: Doc | None = None) -> list[Doc]:
    """The stored documents among ``ids`` (their id and ``content_hash`` only), matching ``extra`` too."""
    if not ids:
        return []
    where = {key: {"$in": ids}, **(extra or {})}
    return list(collection.find(where, {"_id": 0, key: 1, "content_hash": 1}))
