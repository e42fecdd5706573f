"""The write path: unordered bulk inserts, one per collection, that tell new ids from stored ones.

A duplicate-key error on an id means "already stored", never an error: after each bulk insert the ids
refused as duplicates are read back with their stored ``content_hash``, so the report is exact. Every
document carries the ``write_token`` of the ``write()`` call that stored it, so a retry that finds documents
its own earlier attempt landed still reports them as new. There is no multi-document transaction: a failed
write may have stored part of its batch, and writing the batch again stores the rest and nothing twice.

A failure identified by its bytes is written as an upsert that counts its arrivals instead
(:func:`~sigma_aetl.stores.mongo.documents.counting_update`, in the same unordered bulk write as the
inserts): one atomic operation inserts the document or adds to its count, first and last seen and latest
arrivals. Its filter skips a document this call has counted already (``counted_by``), so a retry after a
transient error counts nothing twice; an upsert that loses a race to insert the same id is applied again,
as the update it now is.
"""

import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from pymongo import InsertOne, UpdateOne
from pymongo.collection import Collection
from pymongo.errors import BulkWriteError

from sigma_aetl.core.records import AcceptedRecord, FailureRecord
from sigma_aetl.errors import StoreUnavailable
from sigma_aetl.stores.arrivals import Tally, tally
from sigma_aetl.stores.base import WriteReport
from sigma_aetl.stores.classes import Classifier
from sigma_aetl.stores.mongo import classes, rollups
from sigma_aetl.stores.mongo.documents import (
    Doc,
    counting_filter,
    counting_update,
    failure_doc,
    record_doc,
)
from sigma_aetl.stores.mongo.errors import RETRIES, retrying
from sigma_aetl.stores.mongo.layout import Layout
from sigma_aetl.stores.mongo.queries import find_ids

_DUPLICATE_KEY = {11000, 11001, 12582}
_R = TypeVar("_R", AcceptedRecord, FailureRecord)
_Op = InsertOne[Doc] | UpdateOne


def headers(collection: Collection[Doc], stored: dict[str, bytes]) -> None:
    """Store each request's headers under its key unless there already (content-addressed: a retry, or a
    writer storing the same at once, changes nothing)."""
    if not stored:
        return
    ops = [
        UpdateOne({"_id": key}, {"$setOnInsert": {"doc": body}}, upsert=True) for key, body in stored.items()
    ]
    try:
        collection.bulk_write(ops, ordered=False)
    except BulkWriteError as exc:  # two upserts of one new key at once: the loser's is a duplicate
        if any(error.get("code") not in _DUPLICATE_KEY for error in exc.details.get("writeErrors", ())):
            raise


def write(
    layout: Layout, records: Sequence[AcceptedRecord], failures: Sequence[FailureRecord]
) -> WriteReport:
    """Insert every record and failure whose id is new, and count the arrivals of failures identified by
    their bytes; one unordered bulk write per collection.

    Raises pymongo's errors (after the retries of transient ones); the caller translates them.
    """
    report = WriteReport()
    token = uuid.uuid4().hex  # marks this call's documents, so a retried insert knows its own
    unique = _unique(records, "record_id")
    for contract, group in _grouped(unique, "contract"):
        _write_records(layout, contract, group, token, report)
    arrivals = tally(failures)
    classifier = Classifier()
    class_ids = {f.failure_id: classifier.class_of(f) for f in arrivals.firsts}
    for contract, routed in _grouped(arrivals.firsts, "contract"):
        _write_failures(layout, contract, routed, token, report, tallies=arrivals.tallies, classes=class_ids)
    report.counted_arrivals = arrivals.report()
    # after the records and failures they count: a crash in between counts nothing twice (see classes.py)
    classes.keep(layout, classifier.meta, class_ids, arrivals, report, token=token)
    new_records = [r for r in unique if r.record_id in report.new_records]
    classes.keep_activity(layout, new_records, token)
    new_failures = [f for f in arrivals.firsts if f.failure_id in report.new_failures]
    rollups.keep(layout, new_records, new_failures, class_ids, token)
    return report


def _write_records(
    layout: Layout, contract: str, records: list[AcceptedRecord], token: str, report: WriteReport
) -> None:
    layout.ensure(contract)
    docs = [record_doc(record, token) for record in records]
    new, stored = _insert(layout.records(contract), docs, "record_id", token)
    report.new_records |= new
    report.existing_records.update({doc["record_id"]: doc["content_hash"] for doc in stored})


def _write_failures(
    layout: Layout,
    contract: str | None,
    failures: list[FailureRecord],
    token: str,
    report: WriteReport,
    *,
    tallies: dict[str, Tally],
    classes: dict[str, str],
) -> None:
    if contract is not None:
        layout.ensure(contract)
    elsewhere = _stored_elsewhere(layout, contract, failures)
    here = [f for f in failures if f.failure_id not in elsewhere]
    ops = [_failure_op(f, tallies.get(f.failure_id), token, classes[f.failure_id]) for f in here]
    new, existing = _apply(layout.failures(contract), ops, [f.failure_id for f in here], token)
    report.new_failures |= new
    report.existing_failures |= elsewhere.keys() | existing
    for f in failures:
        counted = tallies.get(f.failure_id)
        if counted is not None and f.failure_id in elsewhere:
            _count_elsewhere(elsewhere[f.failure_id], f, counted, token, classes[f.failure_id])


def _failure_op(failure: FailureRecord, counted: Tally | None, token: str, class_id: str) -> _Op:
    """Insert a failure that is one arrival however often it comes; insert or count one that is not."""
    if counted is None:
        return InsertOne(failure_doc(failure, token, class_id))
    update = counting_update(failure, counted, token, class_id)
    return UpdateOne(counting_filter(failure.failure_id, token), update, upsert=True)


def _count_elsewhere(
    collection: Collection[Doc], failure: FailureRecord, counted: Tally, token: str, class_id: str
) -> None:
    """Count arrivals on the failure's document in the other collection (it is never inserted there)."""
    update = counting_update(failure, counted, token, class_id, insert=False)
    retrying(lambda: collection.update_one(counting_filter(failure.failure_id, token), update))


def _apply(
    collection: Collection[Doc], ops: list[_Op], ids: list[str], token: str
) -> tuple[set[str], set[str]]:
    """Apply the failure operations ``ops`` (``ids[i]`` is op i's failure id) in unordered bulk writes;
    return the ids newly stored by this call and the ids found stored."""
    if not ops:
        return set(), set()

    def attempt() -> tuple[set[str], set[str]]:
        new: set[str] = set()
        pending = list(range(len(ops)))
        for _ in range(RETRIES + 1):
            upserted, refused = _bulk_write(collection, [ops[i] for i in pending])
            new |= {
                ids[i]
                for n, i in enumerate(pending)
                if n not in refused and (n in upserted or isinstance(ops[i], InsertOne))
            }
            pending, landed = _refused_again(
                collection, ops, ids, [pending[n] for n in sorted(refused)], token
            )
            new |= landed
            if not pending:
                return new, set(ids) - new
        raise StoreUnavailable(
            "MongoDB: failure writes kept colliding with concurrent writes of the same ids"
        )

    return retrying(attempt)


def _refused_again(
    collection: Collection[Doc], ops: list[_Op], ids: list[str], refused: list[int], token: str
) -> tuple[list[int], set[str]]:
    """Of the operations refused as duplicates, those to apply again — a counting upsert that lost a race to
    insert (an update now), or one whose document has gone since — and the ids an earlier attempt of this
    call stored."""
    if not refused:
        return [], set()
    stored = {doc["failure_id"]: doc for doc in _written_by(collection, [ids[i] for i in refused])}
    again: list[int] = []
    landed: set[str] = set()
    for i in refused:
        doc = stored.get(ids[i])
        if doc is None or (isinstance(ops[i], UpdateOne) and token not in doc.get("counted_by", ())):
            again.append(i)
        elif doc.get("write_token") == token:
            landed.add(ids[i])
    return again, landed


def _written_by(collection: Collection[Doc], ids: list[str]) -> list[Doc]:
    """The stored failures among ``ids``: which call inserted each, and which calls counted it."""
    fields = {"_id": 0, "failure_id": 1, "write_token": 1, "counted_by": 1}
    return list(collection.find({"failure_id": {"$in": ids}}, fields))


def _bulk_write(collection: Collection[Doc], ops: list[_Op]) -> tuple[set[int], set[int]]:
    """Apply ``ops`` unordered; return the positions of the upserts that inserted and of the operations
    refused as duplicates. Any other write error is raised."""
    try:
        result = collection.bulk_write(ops, ordered=False)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if exc.details.get("writeConcernErrors") or any(e.get("code") not in _DUPLICATE_KEY for e in errors):
            raise
        upserted = {entry["index"] for entry in exc.details.get("upserted", [])}
        return upserted, {error["index"] for error in errors}
    return set(result.upserted_ids or {}), set()


def _stored_elsewhere(
    layout: Layout, contract: str | None, failures: list[FailureRecord]
) -> dict[str, Collection[Doc]]:
    """Ids already in the other collection a failure id can live in (routed ↔ unrouted), and which one.

    The same arrival gets the same failure id whether or not its contract was registered at the time,
    so an unknown_version failure replayed after the version's release must still count as stored.
    """
    if contract is not None:
        others = [layout.unrouted]
    else:
        names = {f.contract_ref.partition("@")[0] for f in failures} & set(layout.names())
        others = [layout.failures(name) for name in sorted(names)]
    ids = [f.failure_id for f in failures]
    return {doc["failure_id"]: other for other in others for doc in find_ids(other, "failure_id", ids)}


def _insert(collection: Collection[Doc], docs: list[Doc], key: str, token: str) -> tuple[set[str], list[Doc]]:
    """Insert ``docs``; return the ids newly stored and the stored documents of the others."""
    if not docs:
        return set(), []

    def attempt() -> list[Doc]:
        duplicates = _insert_many(collection, docs, key)
        # a duplicate carrying this call's token landed in an earlier attempt: it is new, not existing
        return find_ids(collection, key, sorted(duplicates), {"write_token": {"$ne": token}})

    stored = retrying(attempt)
    existing = {doc[key] for doc in stored}
    return {doc[key] for doc in docs} - existing, stored


def _insert_many(collection: Collection[Doc], docs: list[Doc], key: str) -> set[str]:
    """Insert unordered; return the ids refused as duplicates. Any other write error is raised."""
    try:
        collection.insert_many(docs, ordered=False)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if exc.details.get("writeConcernErrors") or any(e.get("code") not in _DUPLICATE_KEY for e in errors):
            raise
        return {docs[error["index"]][key] for error in errors}
    return set()


def _unique(items: Sequence[_R], key: str) -> list[_R]:
    """The first of each id, in order: a second copy within one call is not a second write."""
    by_id: dict[str, _R] = {}
    for item in items:
        by_id.setdefault(getattr(item, key), item)
    return list(by_id.values())


def _grouped(items: list[_R], key: str) -> Iterator[tuple[Any, list[_R]]]:
    groups: dict[Any, list[_R]] = {}
    for item in items:
        groups.setdefault(getattr(item, key), []).append(item)
    yield from groups.items()


def purge(
    collection: Collection[Doc], where: Doc, batch_size: int, forget: Callable[[list[Doc]], None]
) -> Counter[str]:
    """Delete the failures matching ``where`` from one collection, at most ``batch_size`` per delete; return
    how many of each root cause were deleted, and hand the documents deleted to ``forget`` (their classes
    count them out). Each delete repeats ``where``, so a failure that arrived again (and no longer
    matches) since it was found is kept."""
    deleted: Counter[str] = Counter()
    while True:
        found = list(collection.find(where, _PURGED_FIELDS).limit(batch_size))
        if not found:
            return deleted
        by_cause: dict[str, list[str]] = {}
        for doc in found:
            by_cause.setdefault(str(doc["root_cause"]), []).append(doc["failure_id"])
        for cause, ids in by_cause.items():
            deleted[cause] += _delete(collection, {**where, "failure_id": {"$in": ids}})
        kept = {
            doc["failure_id"] for doc in find_ids(collection, "failure_id", [d["failure_id"] for d in found])
        }
        forget([doc for doc in found if doc["failure_id"] not in kept])


_PURGED_FIELDS = {
    **{"_id": 0, "failure_id": 1, "root_cause": 1, "class_id": 1, "doc": 1, "received_us": 1},
    **{"occurrences": 1, "first_counted": 1, "last_seen_us": 1},
}


def _delete(collection: Collection[Doc], where: Doc) -> int:
    """Delete what matches ``where`` (retried after a transient error: deleting twice deletes nothing)."""
    return retrying(lambda: collection.delete_many(where).deleted_count)
