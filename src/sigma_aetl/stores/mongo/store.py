"""The production store: MongoDB, one validated and one failed collection per contract, on sync pymongo.

Sync, not async: the Store protocol is synchronous and every face calls it from worker threads (FastAPI's
thread pool, the Kafka worker's batch loop); ``MongoClient`` is thread-safe and pools its connections, so
one client per store serves them all.

Collections (the defaults; each name is a constructor argument)::

    validated_{name}s      accepted records of contract NAME          validated_shipments
    failed_{name}s         failures routed to contract NAME           failed_shipments
    failed_unrouted        failures with no contract (unrouted, unknown contract or version)
    sigma_aetl_contracts   one document per contract name stored, {"_id": name}

Reads that span contracts (stats, failure queries without a contract, lookups by id) list the contract
collection, then visit each contract's collection. A contract is registered — and its indexes built —
before its first document is written, so no reader ever misses a collection that holds data.

Documents keep the record's exact JSON in ``doc`` (BSON binary): BSON has no integers beyond 64 bits and
only millisecond datetimes, so reading ``doc`` back gives the very record written. Beside it sit typed
copies of what queries and indexes use: ids, contract, version, root cause, error ``fields``,
``received_at`` (a BSON datetime) with ``received_us`` (the exact microseconds, for ordering and ranges),
and ``source`` (its top-level scalars: Kafka topic, partition, offset...). See docs/mongodb.md.
"""

import heapq
import itertools
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

import orjson
from bson.errors import BSONError
from pymongo import ASCENDING, DESCENDING, IndexModel, MongoClient, ReadPreference
from pymongo.collection import Collection
from pymongo.cursor import Cursor
from pymongo.database import Database
from pymongo.errors import (
    BulkWriteError,
    ConfigurationError,
    ConnectionFailure,
    ExecutionTimeout,
    PyMongoError,
    WriteConcernError,
)
from pymongo.write_concern import WriteConcern

from sigma_aetl.core import serial
from sigma_aetl.core.records import AcceptedRecord, FailureRecord, RawPayload, StoredPayload
from sigma_aetl.errors import ConfigError, StoreError, StoreUnavailable
from sigma_aetl.redact import redact
from sigma_aetl.stores.base import (
    FailurePage,
    FailureQuery,
    Stats,
    WriteReport,
    Written,
    micros,
)

Doc = dict[str, Any]
_T = TypeVar("_T")

_DUPLICATE_KEY = {11000, 11001, 12582}
_INT64 = range(-(2**63), 2**63)
_NEWEST = [("received_at", DESCENDING), ("received_us", DESCENDING), ("failure_id", DESCENDING)]
_PAGE_FIELDS = {"_id": 0, "doc": 1, "received_us": 1, "failure_id": 1}

RECORD_INDEXES = [
    IndexModel([("record_id", ASCENDING)], name="record_id_unique", unique=True),
    IndexModel([("received_at", DESCENDING)], name="received_at_desc"),
]
FAILURE_INDEXES = [
    IndexModel(
        [("failure_id", ASCENDING)],
        name="failure_id_unique",
        unique=True,
        partialFilterExpression={"failure_id": {"$type": "string"}},
    ),
    IndexModel(_NEWEST, name="received_at_desc"),
    IndexModel([("version", ASCENDING), *_NEWEST], name="version_received_at"),
    IndexModel([("root_cause", ASCENDING), *_NEWEST], name="root_cause_received_at"),
    IndexModel([("fields", ASCENDING), *_NEWEST], name="fields_received_at"),
    IndexModel([("source.topic", ASCENDING), ("source.offset", ASCENDING)], name="kafka_offset", sparse=True),
]


class MongoStore:
    """A :class:`~sigma_aetl.stores.base.Store` on one MongoDB database.

    ``MongoStore("mongodb://db1,db2,db3/sigma?replicaSet=rs0&w=majority")``: the URL must name the
    database; ``w`` defaults to ``majority``; every other pymongo URL option (``journal``, ``wtimeoutMS``,
    ``serverSelectionTimeoutMS``, TLS...) passes through. Transient errors are retried ``retries`` times
    with exponential backoff from ``backoff`` seconds, then raised as StoreUnavailable.
    """

    def __init__(
        self,
        url: str,
        *,
        records_template: str = "validated_{name}s",
        failures_template: str = "failed_{name}s",
        unrouted_collection: str = "failed_unrouted",
        contracts_collection: str = "sigma_aetl_contracts",
        retries: int = 3,
        backoff: float = 0.1,
    ) -> None:
        self._records_template = _template(records_template)
        self._failures_template = _template(failures_template)
        self._retries = retries
        self._backoff = backoff
        self._client, self._db = _connect(url)
        self._unrouted = self._db[unrouted_collection]
        self._contracts = self._db[contracts_collection]
        self._ready: set[str] = set()  # contracts whose collections have their indexes (this process)
        try:
            with translate_errors():
                self._unrouted.create_indexes(FAILURE_INDEXES)
                for name in self._names():
                    self._ensure(name)
        except BaseException:
            self._client.close()
            raise

    @classmethod
    def from_url(cls, url: str) -> "MongoStore":
        """``mongodb://host:27017/dbname`` or ``mongodb+srv://cluster/dbname``, with pymongo URL options."""
        return cls(url)

    @property
    def database(self) -> Database[Doc]:
        """The pymongo database, with the store's write concern (for operators and tests)."""
        return self._db

    def records_collection(self, contract: str) -> Collection[Doc]:
        """Where accepted records of ``contract`` live."""
        return self._db[_collection_name(self._records_template, contract)]

    def failures_collection(self, contract: str | None) -> Collection[Doc]:
        """Where failures of ``contract`` live; unrouted failures (no contract) have their own."""
        if contract is None:
            return self._unrouted
        return self._db[_collection_name(self._failures_template, contract)]

    # -- writes ---------------------------------------------------------------------------------------

    @property
    def writes_in_background(self) -> bool:
        """False: pymongo's calls block, so :meth:`submit` writes before it returns."""
        return False

    def submit(self, records: Sequence[AcceptedRecord], failures: Sequence[FailureRecord]) -> Written:
        """:meth:`write`, done at once (pymongo's calls block)."""
        return Written(self.write(records, failures))

    def write(self, records: Sequence[AcceptedRecord], failures: Sequence[FailureRecord]) -> WriteReport:
        """Insert every record and failure whose id is new; unordered bulk inserts, one per collection."""
        report = WriteReport()
        token = uuid.uuid4().hex  # marks this call's documents, so a retried insert knows its own
        with translate_errors():
            for contract, group in _grouped(_unique(records, "record_id"), "contract"):
                self._write_records(contract, group, token, report)
            for contract, routed in _grouped(_unique(failures, "failure_id"), "contract"):
                self._write_failures(contract, routed, token, report)
        return report

    def _write_records(
        self, contract: str, records: list[AcceptedRecord], token: str, report: WriteReport
    ) -> None:
        self._ensure(contract)
        docs = [_record_doc(record, token) for record in records]
        new, stored = self._insert(self.records_collection(contract), docs, "record_id", token)
        report.new_records |= new
        report.existing_records.update({doc["record_id"]: doc["content_hash"] for doc in stored})

    def _write_failures(
        self, contract: str | None, failures: list[FailureRecord], token: str, report: WriteReport
    ) -> None:
        if contract is not None:
            self._ensure(contract)
        elsewhere = self._stored_elsewhere(contract, failures)
        docs = [_failure_doc(f, token) for f in failures if f.failure_id not in elsewhere]
        new, stored = self._insert(self.failures_collection(contract), docs, "failure_id", token)
        report.new_failures |= new
        report.existing_failures |= elsewhere | {doc["failure_id"] for doc in stored}

    def _stored_elsewhere(self, contract: str | None, failures: list[FailureRecord]) -> set[str]:
        """Ids already in the other collection a failure id can live in: routed ↔ unrouted.

        The same arrival gets the same failure id whether or not its contract was registered at the time,
        so an unknown_version failure replayed after the version's release must still count as stored.
        """
        if contract is not None:
            others = [self._unrouted]
        else:
            names = {f.contract_ref.partition("@")[0] for f in failures} & set(self._names())
            others = [self.failures_collection(name) for name in sorted(names)]
        ids = [f.failure_id for f in failures]
        return {doc["failure_id"] for other in others for doc in _find_ids(other, "failure_id", ids)}

    def _insert(
        self, collection: Collection[Doc], docs: list[Doc], key: str, token: str
    ) -> tuple[set[str], list[Doc]]:
        """Insert ``docs``; return the ids newly stored and the stored documents of the others."""
        if not docs:
            return set(), []

        def attempt() -> list[Doc]:
            duplicates = _insert_many(collection, docs, key)
            # a duplicate carrying this call's token landed in an earlier attempt: it is new, not existing
            return list(_find_ids(collection, key, sorted(duplicates), {"write_token": {"$ne": token}}))

        stored = self._retrying(attempt)
        existing = {doc[key] for doc in stored}
        return {doc[key] for doc in docs} - existing, stored

    def _retrying(self, action: Callable[[], _T]) -> _T:
        for attempt in range(self._retries):
            try:
                return action()
            except PyMongoError as exc:
                if not is_transient(exc):
                    raise
            time.sleep(self._backoff * 2**attempt)
        return action()

    def _ensure(self, contract: str) -> None:
        """Build a contract's indexes and register it, once per process, before its first write."""
        if contract in self._ready:
            return
        self.records_collection(contract).create_indexes(RECORD_INDEXES)
        self.failures_collection(contract).create_indexes(FAILURE_INDEXES)
        collections = {"records": self.records_collection(contract).name}
        collections["failures"] = self.failures_collection(contract).name
        self._contracts.update_one({"_id": contract}, {"$setOnInsert": collections}, upsert=True)
        self._ready.add(contract)

    # -- reads ----------------------------------------------------------------------------------------

    def _names(self) -> list[str]:
        return sorted(str(doc["_id"]) for doc in self._contracts.find({}, {"_id": 1}))

    def _failure_collections(self, contract: str | None) -> list[Collection[Doc]]:
        names = self._names()
        if contract is not None:
            return [self.failures_collection(contract)] if contract in names else []
        return [self._unrouted, *(self.failures_collection(name) for name in names)]

    def get_record(self, record_id: str) -> AcceptedRecord | None:
        """One accepted record by id, looked up in each contract's collection."""
        with translate_errors():
            for name in self._names():
                found = self.records_collection(name).find_one({"record_id": record_id}, {"doc": 1})
                if found is not None:
                    return serial.loads(AcceptedRecord, found["doc"])
        return None

    def get_failure(self, failure_id: str) -> FailureRecord | None:
        """One failure record by id, looked up in the unrouted collection and each contract's."""
        with translate_errors():
            for collection in self._failure_collections(None):
                found = collection.find_one({"failure_id": failure_id}, {"doc": 1})
                if found is not None:
                    return serial.loads(FailureRecord, found["doc"])
        return None

    def query_failures(self, query: FailureQuery) -> FailurePage:
        """Failures matching the filters, newest first; several collections are merged in order."""
        where = _failure_filter(query)
        with translate_errors():
            collections = self._failure_collections(query.contract)
            total = sum(collection.count_documents(where) for collection in collections)
            docs = _page(collections, where, query.offset, query.limit) if total > query.offset else []
        items = [serial.loads(FailureRecord, doc["doc"]) for doc in docs]
        return FailurePage(items=items, total=total, limit=query.limit, offset=query.offset)

    def stats(self) -> Stats:
        """Counts per contract version and per root cause, summed over every collection."""
        with translate_errors():
            names = self._names()
            accepted = _count_by((self.records_collection(name) for name in names), "$contract_ref")
            failures = self._failure_collections(None)
            by_ref = _count_by(failures, "$contract_ref")
            by_cause = _count_by(failures, "$root_cause")
        return Stats(
            accepted_total=sum(accepted.values()),
            failures_total=sum(by_ref.values()),
            accepted_by_contract=dict(sorted(accepted.items())),
            failures_by_contract=dict(sorted(by_ref.items())),
            failures_by_root_cause=dict(sorted(by_cause.items())),
        )

    def raw_payloads(
        self, contract: str, version: int, *, batch_size: int = 500
    ) -> Iterator[list[StoredPayload]]:
        """Raw payloads of ``contract@version`` from the contract's two collections, in id order."""
        with translate_errors():
            known = contract in self._names()
        if known:
            yield from _payloads(self.records_collection(contract), "record_id", version, batch_size)
            yield from _payloads(self.failures_collection(contract), "failure_id", version, batch_size)

    def ping(self) -> None:
        """Raise StoreUnavailable when the server does not answer."""
        with translate_errors():
            self._client.admin.command("ping")

    def close(self) -> None:
        """Close the client and its connection pool."""
        self._client.close()


# -- documents ------------------------------------------------------------------------------------------


def _record_doc(record: AcceptedRecord, token: str) -> Doc:
    return {
        "record_id": record.record_id,
        "contract": record.contract,
        "version": record.version,
        "contract_ref": f"{record.contract}@{record.version}",
        "fingerprint": record.fingerprint,
        "content_hash": record.content_hash,
        **_common(record, token),
    }


def _failure_doc(failure: FailureRecord, token: str) -> Doc:
    return {
        "failure_id": failure.failure_id,
        "contract_ref": failure.contract_ref,
        "contract": failure.contract,
        "version": failure.version,
        "fingerprint": failure.fingerprint,
        "root_cause": failure.root_cause.value,
        "stage": failure.stage.value,
        "fields": failure.fields,
        "conflicts_with": failure.conflicts_with,
        **_common(failure, token),
    }


def _common(record: AcceptedRecord | FailureRecord, token: str) -> Doc:
    return {
        "received_at": _utc(record.received_at),
        "received_us": micros(record.received_at),
        "source": {key: value for key, value in record.source.items() if _bson_scalar(value)},
        "write_token": token,
        "doc": serial.dumps(record),
    }


def _bson_scalar(value: Any) -> bool:
    """True for values BSON holds exactly: UTF-8 strings, 64-bit integers, floats, booleans, null."""
    if isinstance(value, str):
        return _encodable(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value in _INT64
    return value is None or isinstance(value, float | bool)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# -- queries --------------------------------------------------------------------------------------------


def _failure_filter(query: FailureQuery) -> Doc:
    where: Doc = {}
    if query.version is not None:
        where["version"] = query.version
    if query.root_cause is not None:
        where["root_cause"] = query.root_cause.value
    if query.field is not None:
        where["fields"] = query.field
    return {**where, **_time_filter(query.since, query.until)}


def _time_filter(since: datetime | None, until: datetime | None) -> Doc:
    """Bounds on ``received_at`` (milliseconds, served by the indexes), made exact by ``received_us``."""
    at: Doc = {}
    us: Doc = {}
    if since is not None:
        at["$gte"], us["$gte"] = _utc(since), micros(since)
    if until is not None:
        # BSON datetimes drop microseconds: a record before `until` can share its millisecond
        at["$lte"], us["$lt"] = _utc(until), micros(until)
    return {"received_at": at, "received_us": us} if at else {}


def _page(collections: list[Collection[Doc]], where: Doc, offset: int, limit: int) -> list[Doc]:
    """One page of the newest-first merge of several collections' newest-first cursors."""
    skip = offset if len(collections) == 1 else 0
    cursors: list[Cursor[Doc]] = [
        collection.find(where, _PAGE_FIELDS).sort(_NEWEST).skip(skip).limit(offset - skip + limit)
        for collection in collections
    ]
    try:
        merged = heapq.merge(*cursors, key=_newest_key, reverse=True)
        return list(itertools.islice(merged, offset - skip, offset - skip + limit))
    finally:
        for cursor in cursors:
            cursor.close()


def _newest_key(doc: Doc) -> tuple[int, str]:
    return doc["received_us"], doc["failure_id"]


def _payloads(
    collection: Collection[Doc], key: str, version: int, size: int
) -> Iterator[list[StoredPayload]]:
    """Keyset paging on the unique id index: each batch starts after the last id of the one before."""
    kind: Literal["record", "failure"] = "record" if key == "record_id" else "failure"
    last = ""
    while True:
        where = {"version": version, key: {"$type": "string", "$gt": last}}
        with translate_errors():
            docs = list(collection.find(where, {"_id": 0, key: 1, "doc": 1}).sort(key, ASCENDING).limit(size))
        if not docs:
            return
        yield [StoredPayload(kind, doc[key], _raw_of(doc["doc"])) for doc in docs]
        last = docs[-1][key]


def _raw_of(doc: bytes) -> RawPayload:
    return serial.load(RawPayload, orjson.loads(doc)["raw"])


def _count_by(collections: Iterable[Collection[Doc]], key: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for collection in collections:
        for row in collection.aggregate([{"$group": {"_id": key, "n": {"$sum": 1}}}]):
            counts[str(row["_id"])] += int(row["n"])
    return counts


def _find_ids(collection: Collection[Doc], key: str, ids: list[str], extra: Doc | None = None) -> list[Doc]:
    if not ids:
        return []
    where = {key: {"$in": ids}, **(extra or {})}
    return list(collection.find(where, {"_id": 0, key: 1, "content_hash": 1}))


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


# -- helpers --------------------------------------------------------------------------------------------

_R = TypeVar("_R", AcceptedRecord, FailureRecord)


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


def _template(template: str) -> str:
    try:
        name = template.format(name="x")
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(f"collection template {template!r} may only use {{name}}") from exc
    if "{name}" not in template or not _valid_collection(name):
        raise ConfigError(f"collection template {template!r} must contain {{name}} and name a collection")
    return template


def _collection_name(template: str, contract: str) -> str:
    name = template.format(name=contract)
    if not contract or not _valid_collection(name):
        raise StoreError(f"contract name {contract!r} cannot name a MongoDB collection ({name!r})")
    return name


def _valid_collection(name: str) -> bool:
    return bool(name) and "$" not in name and "\x00" not in name and not name.startswith("system.")


def _connect(url: str) -> tuple[MongoClient[Doc], Database[Doc]]:
    """A client for ``url`` and the database it names, writing with ``w=majority`` unless told otherwise.

    Reads always go to the primary, whatever ``readPreference`` the URL asks for.
    """
    try:
        client: MongoClient[Doc] = MongoClient(url, tz_aware=True)
    except ConfigurationError as exc:
        raise ConfigError(f"bad MongoDB URL: {exc}") from exc
    try:
        database = client.get_default_database()
    except ConfigurationError as exc:
        client.close()
        raise ConfigError(
            f"a MongoDB URL names its database, e.g. mongodb://host:27017/sigma: {redact(url)!r}"
        ) from exc
    concern = WriteConcern(**{"w": "majority", **client.write_concern.document})
    if not concern.acknowledged:
        client.close()
        raise ConfigError("w=0 is refused: unacknowledged writes cannot tell a new id from a stored one")
    # the primary only: telling a duplicate from a new id, and reading one's own writes, need it
    return client, database.with_options(write_concern=concern, read_preference=ReadPreference.PRIMARY)


def is_transient(exc: PyMongoError) -> bool:
    """Worth retrying: the network, an election, a write concern not yet satisfied, a server timeout."""
    if isinstance(exc, ConnectionFailure | ExecutionTimeout | WriteConcernError):
        return True
    if isinstance(exc, BulkWriteError) and exc.details.get("writeConcernErrors"):
        return True
    return exc.has_error_label("RetryableWriteError") or exc.has_error_label("TransientTransactionError")


@contextmanager
def translate_errors() -> Iterator[None]:
    """Turn pymongo and bson exceptions into the store's own errors at the boundary."""
    try:
        yield
    except PyMongoError as exc:
        kind = StoreUnavailable if is_transient(exc) else StoreError
        raise kind(f"MongoDB: {_first_line(exc)}") from exc
    except (BSONError, OverflowError) as exc:
        raise StoreError(f"MongoDB: cannot encode a document: {exc}") from exc


def _first_line(exc: Exception) -> str:
    text = str(exc)
    return text.partition(", full error:")[0].partition(", Timeout:")[0][:500]
