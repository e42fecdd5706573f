"""The write path: unordered bulk inserts, one per collection, that tell new ids from stored ones.

A duplicate-key error on an id means "already stored", never an error: after each bulk insert the ids
refused as duplicates are read back with their stored ``content_hash``, so the report is exact. Every
document carries the ``write_token`` of the ``write()`` call that stored it, so a retry that finds documents
its own earlier attempt landed still reports them as new. There is no multi-document transaction: a failed
write may have stored part of its batch, and writing the batch again stores the rest and nothing twice.
"""

import uuid
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from pymongo.collection import Collection
from pymongo.errors import BulkWriteError

from sigma_aetl.core.records import AcceptedRecord, FailureRecord
from sigma_aetl.stores.base import WriteReport
from sigma_aetl.stores.mongo.documents import Doc, failure_doc, record_doc
from sigma_aetl.stores.mongo.errors import retrying
from sigma_aetl.stores.mongo.layout import Layout
from sigma_aetl.stores.mongo.queries import find_ids

_DUPLICATE_KEY = {11000, 11001, 12582}
_R = TypeVar("_R", AcceptedRecord, FailureRecord)


def write(
    layout: Layout, records: Sequence[AcceptedRecord], failures: Sequence[FailureRecord]
) -> WriteReport:
    """Insert every record and failure whose id is new; one unordered bulk insert per collection.

    Raises pymongo's errors (after the retries of transient ones); the caller translates them.
    """
    report = WriteReport()
    token = uuid.uuid4().hex  # marks this call's documents, so a retried insert knows its own
    for contract, group in _grouped(_unique(records, "record_id"), "contract"):
        _write_records(layout, contract, group, token, report)
    for contract, routed in _grouped(_unique(failures, "failure_id"), "contract"):
        _write_failures(layout, contract, routed, token, report)
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
    layout: Layout, contract: str | None, failures: list[FailureRecord], token: str, report: WriteReport
) -> None:
    if contract is not None:
        layout.ensure(contract)
    elsewhere = _stored_elsewhere(layout, contract, failures)
    docs = [failure_doc(f, token) for f in failures if f.failure_id not in elsewhere]
    new, stored = _insert(layout.failures(contract), docs, "failure_id", token)
    report.new_failures |= new
    report.existing_failures |= elsewhere | {doc["failure_id"] for doc in stored}


def _stored_elsewhere(layout: Layout, contract: str | None, failures: list[FailureRecord]) -> set[str]:
    """Ids already in the other collection a failure id can live in: routed ↔ unrouted.

    The same arrival gets the same failure id whether or not its contract was registered at the time,
    so an unknown_version failure replayed after the version's release must still count as stored.
    """
    if contract is not None:
        others = [layout.unrouted]
    else:
        names = {f.contract_ref.partition("@")[0] for f in failures} & set(layout.names())
        others = [layout.failures(name) for name in sorted(names)]
    ids = [f.failure_id for f in failures]
    return {doc["failure_id"] for other in others for doc in find_ids(other, "failure_id", ids)}


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
