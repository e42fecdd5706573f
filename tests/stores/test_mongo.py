"""The MongoDB store beyond the conformance suite: collections, indexes, documents, URLs and outages."""

import contextlib
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pymongo import ReadPreference
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import (
    AutoReconnect,
    BulkWriteError,
    DuplicateKeyError,
    NetworkTimeout,
    NotPrimaryError,
    OperationFailure,
    PyMongoError,
    ServerSelectionTimeoutError,
)

from sigma_aetl.core import serial
from sigma_aetl.core.records import AcceptedRecord, FailureRecord
from sigma_aetl.core.taxonomy import RootCause
from sigma_aetl.errors import ConfigError, StoreError, StoreUnavailable
from sigma_aetl.stores import open_store
from sigma_aetl.stores.base import FailureQuery, RecordQuery
from sigma_aetl.stores.mongo import MongoStore
from sigma_aetl.stores.mongo.connection import DEFAULT_SETTLE, connect, settle_option
from sigma_aetl.stores.mongo.errors import is_transient
from sigma_aetl.stores.mongo.indexes import FAILURE_INDEXES, RECORD_INDEXES
from sigma_aetl.testing import wait_until

Db = Database[dict[str, Any]]
RecordFactory = Callable[..., AcceptedRecord]
FailureFactory = Callable[..., FailureRecord]


def index_keys(collection: Collection[dict[str, Any]]) -> dict[tuple[str, ...], Mapping[str, Any]]:
    """A collection's indexes by the fields they cover (nx-27017 renames indexes, so names cannot be used)."""
    return {tuple(info["key"]): info for info in collection.list_indexes()}


# -- indexes ------------------------------------------------------------------------------------------


def test_index_specs_carry_the_documented_options() -> None:
    """The index specs sent at start-up ask for uniqueness, a partial filter, sparseness, descending time."""
    records = {spec.document["name"]: spec.document for spec in RECORD_INDEXES}
    failures = {spec.document["name"]: spec.document for spec in FAILURE_INDEXES}
    assert records["record_id_unique"]["unique"] is True
    assert dict(records["received_at_desc"]["key"]) == {"received_at": -1}
    unique = failures["failure_id_unique"]
    assert unique["unique"] is True
    assert unique["partialFilterExpression"] == {"failure_id": {"$type": "string"}}
    assert next(iter(failures["received_at_desc"]["key"].items())) == ("received_at", -1)
    assert failures["kafka_offset"]["sparse"] is True
    assert list(failures["kafka_offset"]["key"]) == ["source.topic", "source.offset"]
    for name, first in [("version_received_at", "version"), ("root_cause_received_at", "root_cause")]:
        assert list(failures[name]["key"])[:2] == [first, "received_at"]
    assert next(iter(failures["fields_received_at"]["key"])) == "fields"


def test_indexes_exist_after_start_up(
    mongo_store: MongoStore, mongo_db: Db, make_record: RecordFactory, make_failure: FailureFactory
) -> None:
    """After start-up and a first write, every collection has its indexes, unique where ids live."""
    mongo_store.write([make_record("S1")], [make_failure("k1")])
    records = index_keys(mongo_db["validated_shipments"])
    assert records[("record_id",)].get("unique") is True
    assert ("received_at",) in records
    for collection in [mongo_db["failed_shipments"], mongo_db["failed_unrouted"]]:
        failures = index_keys(collection)
        assert failures[("failure_id",)].get("unique") is True
        expected = {
            ("received_at", "received_us", "failure_id"),
            ("version", "received_at", "received_us", "failure_id"),
            ("root_cause", "received_at", "received_us", "failure_id"),
            ("fields", "received_at", "received_us", "failure_id"),
            ("source.topic", "source.offset"),
        }
        assert expected <= set(failures)


def test_unrouted_collection_has_indexes_before_any_write(mongo_store: MongoStore, mongo_db: Db) -> None:
    """The collection for unrouted failures is indexed at start-up, before anything is written."""
    assert index_keys(mongo_db["failed_unrouted"])[("failure_id",)].get("unique") is True


def test_creating_indexes_twice_is_harmless(
    mongo_url: str, mongo_store: MongoStore, mongo_db: Db, make_record: RecordFactory
) -> None:
    """Opening a second store on the same database rebuilds nothing and keeps the data."""
    record = make_record("S1")
    mongo_store.write([record], [])
    before = index_keys(mongo_db["validated_shipments"])
    again = MongoStore(mongo_url)
    try:
        assert index_keys(mongo_db["validated_shipments"]) == before
        assert again.get_record(record.record_id) == record
        assert again.write([record], []).existing_records == {record.record_id: record.content_hash}
    finally:
        again.close()


def test_unique_index_refuses_a_duplicate_id_itself(
    mongo_store: MongoStore, mongo_db: Db, make_record: RecordFactory
) -> None:
    """The server, not only the store, refuses a second document with a stored record id."""
    record = make_record("S1")
    mongo_store.write([record], [])
    with pytest.raises(DuplicateKeyError):
        mongo_db["validated_shipments"].insert_one({"record_id": record.record_id})


def test_documents_without_failure_id_do_not_collide(mongo_store: MongoStore, mongo_db: Db) -> None:
    """The failure id index is partial: documents that lack a failure id never collide on it."""
    collection = mongo_db["failed_unrouted"]
    collection.insert_many([{"note": "one"}, {"note": "two"}])
    assert collection.count_documents({"note": {"$exists": True}}) == 2


# -- collections and documents -------------------------------------------------------------------------


def test_shipment_uses_the_original_collection_names(
    mongo_store: MongoStore, mongo_db: Db, make_record: RecordFactory, make_failure: FailureFactory
) -> None:
    """Shipment records go to validated_shipments and their failures to failed_shipments."""
    record, failure = make_record("S1"), make_failure("k1")
    mongo_store.write([record], [failure])
    assert mongo_db["validated_shipments"].find_one({"record_id": record.record_id}) is not None
    assert mongo_db["failed_shipments"].find_one({"failure_id": failure.failure_id}) is not None
    assert mongo_db["sigma_aetl_contracts"].find_one({"_id": "shipment"}) == {
        "_id": "shipment",
        "records": "validated_shipments",
        "failures": "failed_shipments",
    }


def test_unrouted_failures_go_to_their_own_collection(
    mongo_store: MongoStore, mongo_db: Db, make_failure: FailureFactory
) -> None:
    """A failure with no contract goes to failed_unrouted, whatever contract it addressed."""
    failure = make_failure("k1", contract_ref="ghost@1", routed=False, root_cause=RootCause.UNKNOWN_CONTRACT)
    mongo_store.write([], [failure])
    assert mongo_db["failed_unrouted"].count_documents({"failure_id": failure.failure_id}) == 1
    assert "validated_ghosts" not in mongo_db.list_collection_names()
    assert mongo_db["sigma_aetl_contracts"].find_one({"_id": "ghost"}) is None


def test_other_contracts_follow_the_naming_template(
    mongo_store: MongoStore, mongo_db: Db, make_record: RecordFactory
) -> None:
    """Every contract gets its own validated_{name}s collection."""
    mongo_store.write([make_record("P1", contract="parcel", version=2)], [])
    assert mongo_db["validated_parcels"].count_documents({"version": 2}) == 1


def test_a_contract_name_that_cannot_name_a_collection(
    mongo_store: MongoStore, make_record: RecordFactory
) -> None:
    """A contract name MongoDB cannot use in a collection name is a StoreError, not a pymongo error."""
    with pytest.raises(StoreError, match="cannot name a MongoDB collection"):
        mongo_store.write([make_record("S1", contract="bad$name")], [])


def test_document_layout(mongo_store: MongoStore, mongo_db: Db, make_failure: FailureFactory) -> None:
    """A failure document holds the exact JSON in doc plus typed, BSON-safe query fields."""
    received = datetime.fromisoformat("2024-05-01T12:00:00.123456+00:00")
    source = {
        "kind": "kafka",
        "topic": "ship",
        "partition": 1,
        "offset": 42,
        "headers": {"a": "b"},
        "big": 2**70,
    }
    failure = make_failure("k1", paths=("weight_kg", "priority"), received_at=received, source=source)
    mongo_store.write([], [failure])
    doc = mongo_db["failed_shipments"].find_one({"failure_id": failure.failure_id})
    assert doc is not None
    assert serial.loads(FailureRecord, doc["doc"]) == failure
    assert isinstance(doc["doc"], bytes)
    assert doc["received_at"] == datetime(2024, 5, 1, 12, 0, 0, 123000, tzinfo=UTC)  # BSON keeps milliseconds
    assert doc["received_us"] == 1_714_564_800_123_456
    assert doc["fields"] == ["priority", "weight_kg"]
    assert doc["source"] == {"kind": "kafka", "topic": "ship", "partition": 1, "offset": 42}
    assert (doc["contract"], doc["version"], doc["root_cause"]) == ("shipment", 1, "missing_field")


def test_kafka_coordinates_are_queryable(
    mongo_store: MongoStore, mongo_db: Db, make_failure: FailureFactory
) -> None:
    """Failures can be found by Kafka topic and offset, the fields of the sparse index."""
    source = {"kind": "kafka", "topic": "shipments", "partition": 0, "offset": 7}
    failure = make_failure("k1", source=source)
    mongo_store.write([], [failure, make_failure("k2")])
    found = mongo_db["failed_shipments"].find_one({"source.topic": "shipments", "source.offset": 7})
    assert found is not None
    assert found["failure_id"] == failure.failure_id


# -- URLs and write concern -----------------------------------------------------------------------------


def test_open_store_opens_a_mongodb_url(mongo_url: str) -> None:
    """open_store() hands a mongodb:// URL to the MongoDB store."""
    store = open_store(mongo_url)
    try:
        assert isinstance(store, MongoStore)
        store.ping()
    finally:
        store.close()


@contextlib.contextmanager
def connected(url: str) -> Iterator[Db]:
    """The database the store's connection makes of ``url``, its client closed afterwards."""
    client, database = connect(url)
    try:
        yield database
    finally:
        client.close()


def test_write_concern_defaults_to_majority(mongo_url: str) -> None:
    """Without w= in the URL, writes wait for a majority of the replica set."""
    with connected(mongo_url) as database:
        assert database.write_concern.document == {"w": "majority"}


def test_url_sets_the_write_concern(nx_url: str, mongo_db_name: str) -> None:
    """w=, journal= and wtimeoutMS= in the URL set the write concern."""
    with connected(f"{nx_url}/{mongo_db_name}?w=1&journal=true&wtimeoutMS=2000") as database:
        assert database.write_concern.document == {"w": 1, "j": True, "wtimeout": 2000}


def test_reads_go_to_the_primary(nx_url: str, mongo_db_name: str) -> None:
    """A readPreference in the URL is overridden: duplicate detection must read the primary."""
    with connected(f"{nx_url}/{mongo_db_name}?readPreference=secondaryPreferred") as database:
        assert database.read_preference == ReadPreference.PRIMARY


@pytest.mark.parametrize(
    "url",
    ["mongodb://127.0.0.1:1", "mongodb://127.0.0.1:1/", "mongodb://:@/db", "mongodb://127.0.0.1:1/db?w=0"],
)
def test_bad_urls_are_config_errors(url: str) -> None:
    """A URL that names no database, cannot be parsed or asks for unacknowledged writes is a ConfigError."""
    with pytest.raises(ConfigError):
        MongoStore(url)


# -- outages and errors ---------------------------------------------------------------------------------


def test_dead_port_raises_store_unavailable(dead_url: str) -> None:
    """A store pointed at a port nobody listens on raises StoreUnavailable quickly, not a pymongo error."""
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as raised:
        MongoStore(dead_url)
    assert time.monotonic() - started < 5
    assert isinstance(raised.value.__cause__, ServerSelectionTimeoutError)
    assert "Topology Description" not in str(raised.value)


def test_server_lost_after_start_up(start_server: Callable[[], Any], make_record: RecordFactory) -> None:
    """When the server goes away, every call raises StoreUnavailable after bounded retries."""
    server = start_server()
    # the default retries: four writes of 0.3 s each and 0.7 s of backoff, well under the bound below
    store = MongoStore(f"{server.url}/sigma?serverSelectionTimeoutMS=300")
    try:
        store.write([make_record("S1")], [])
        server.stop()
        calls: list[Callable[[], object]] = [
            lambda: store.write([make_record("S2")], []),
            lambda: store.get_record("rec_x"),
            lambda: store.query_failures(FailureQuery()),
            store.stats,
            store.ping,
        ]
        for call in calls:
            started = time.monotonic()
            with pytest.raises(StoreUnavailable):
                call()
            assert time.monotonic() - started < 5
    finally:
        store.close()


def test_an_insert_retried_after_landing_still_reports_new(
    mongo_store: MongoStore, make_record: RecordFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Documents that landed before a dropped connection are reported new on the retry, not existing."""
    original = Collection.insert_many
    calls: list[int] = []

    def land_then_drop(self: Collection[dict[str, Any]], docs: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(len(docs))
        if len(calls) == 1:
            with contextlib.suppress(BulkWriteError):
                original(self, docs, *args, **kwargs)
            raise AutoReconnect("connection dropped after the write")
        return original(self, docs, *args, **kwargs)

    old = make_record("S0")
    mongo_store.write([old], [])
    monkeypatch.setattr(Collection, "insert_many", land_then_drop)
    records = [old, make_record("S1"), make_record("S2")]
    report = mongo_store.write(records, [])
    assert len(calls) == 2
    assert report.new_records == {records[1].record_id, records[2].record_id}
    assert report.existing_records == {old.record_id: old.content_hash}


def test_a_non_transient_write_error_is_a_store_error(
    mongo_store: MongoStore, make_record: RecordFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write error other than a duplicate is raised once as StoreError, never retried."""
    calls: list[int] = []

    def refuse(self: Collection[dict[str, Any]], docs: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        error = {"index": 0, "code": 121, "errmsg": "Document failed validation", "op": docs[0]}
        raise BulkWriteError({"writeErrors": [error], "writeConcernErrors": [], "nInserted": 0})

    monkeypatch.setattr(Collection, "insert_many", refuse)
    with pytest.raises(StoreError) as raised:
        mongo_store.write([make_record("S1")], [])
    assert not isinstance(raised.value, StoreUnavailable)
    assert calls == [1]


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (AutoReconnect("x"), True),
        (NetworkTimeout("x"), True),
        (NotPrimaryError("x"), True),
        (ServerSelectionTimeoutError("x"), True),
        (BulkWriteError({"writeErrors": [], "writeConcernErrors": [{"code": 64}]}), True),
        (OperationFailure("x", code=2), False),
        (BulkWriteError({"writeErrors": [{"code": 121}], "writeConcernErrors": []}), False),
    ],
)
def test_which_errors_are_retried(error: PyMongoError, transient: bool) -> None:
    """Network failures, elections and unmet write concerns are transient; other failures are not."""
    assert is_transient(error) is transient


def test_sqlite_users_never_import_pymongo(tmp_path: Path) -> None:
    """Opening a SQLite store does not load pymongo."""
    code = (
        "import sys; from sigma_aetl.stores import open_store; "
        f"open_store('sqlite:///{tmp_path}/x.db').close(); print('pymongo' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- the records stream: _id order below a settled horizon ------------------------------------------------


def test_records_appear_once_their_id_is_older_than_the_settle(
    mongo_store: MongoStore, make_record: RecordFactory
) -> None:
    """A record is streamed only once its _id is more than the settle lag old by the reader's clock; until
    then the page ends before it, and a resume cursor taken then still yields it later."""
    written = datetime.now(UTC)
    record = make_record("S1")
    mongo_store.write([record], [])
    mongo_store.clock = lambda: written + mongo_store.settle - timedelta(seconds=1)
    early = mongo_store.query_records(RecordQuery())
    assert (early.items, early.next_cursor) == ([], None)
    mongo_store.clock = lambda: written + mongo_store.settle + timedelta(seconds=2)
    later = mongo_store.query_records(RecordQuery(cursor=early.resume_cursor))
    assert later.items == [record]


def test_the_settle_lag_defaults_to_30_seconds_and_the_url_sets_it(mongo_url: str) -> None:
    """recordsSettleMS in the URL sets the lag (any case), is not handed to pymongo, and defaults to 30 s."""
    assert "?" in mongo_url  # the fixture's URL already has an option, so ours is appended with &
    for url, settle in [
        (mongo_url, timedelta(seconds=30)),
        (f"{mongo_url}&recordsSettleMS=1500", timedelta(milliseconds=1500)),
        (f"{mongo_url}&recordssettlems=0", timedelta(0)),
    ]:
        store = MongoStore(url, read_only=True)
        try:
            assert store.settle == settle
            store.ping()
        finally:
            store.close()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mongodb://h/db", ("mongodb://h/db", DEFAULT_SETTLE)),
        ("mongodb://h/db?recordsSettleMS=5", ("mongodb://h/db", timedelta(milliseconds=5))),
        (
            "mongodb://h/db?w=1&recordsSettleMS=5&tls=true",
            ("mongodb://h/db?w=1&tls=true", timedelta(milliseconds=5)),
        ),
    ],
)
def test_the_settle_option_is_taken_out_of_the_url(url: str, expected: tuple[str, timedelta]) -> None:
    """Only recordsSettleMS is removed from the URL; every other option stays, in order."""
    assert settle_option(url) == expected


@pytest.mark.parametrize("value", ["", "-1", "1.5", "30s", "9" * 13])
def test_a_bad_settle_value_is_a_config_error(value: str) -> None:
    """recordsSettleMS must be a whole number of milliseconds."""
    with pytest.raises(ConfigError, match="recordsSettleMS"):
        MongoStore(f"mongodb://127.0.0.1:1/db?recordsSettleMS={value}")


def test_documents_another_tool_wrote_are_not_streamed(
    mongo_store: MongoStore, mongo_db: Db, make_record: RecordFactory
) -> None:
    """Documents in validated_shipments without a string record_id (another tool's) are skipped."""
    mongo_store.clock = lambda: datetime.now(UTC) + mongo_store.settle + timedelta(seconds=2)
    mongo_store.write([make_record("S1")], [])
    mongo_db["validated_shipments"].insert_many([{"shipment_id": "n8n"}, {"record_id": 7}])
    mongo_db["validated_shipments"].insert_one({"_id": "text", "record_id": "rec_text"})
    mongo_store.write([make_record("S2")], [])
    items = mongo_store.query_records(RecordQuery(contract="shipment")).items
    assert [r.record_id for r in items] == [make_record("S1").record_id, make_record("S2").record_id]


def test_gateways_sharing_a_database_are_streamed_once_while_they_write(
    mongo_url: str, make_record: RecordFactory
) -> None:
    """Records that two stores (two gateways) write concurrently reach a reader that tails the stream with a
    real clock and a short settle lag exactly once each, none skipped, none repeated."""
    url = f"{mongo_url}&recordsSettleMS=1500"
    writers, reader = [MongoStore(url), MongoStore(url)], MongoStore(url, read_only=True)
    batches = [
        [make_record(f"G{w}-{n}") for n in range(10 * b, 10 * b + 10)] for w in range(2) for b in range(8)
    ]
    seen: list[str] = []
    position: list[str | None] = [None]

    def write(index: int) -> None:
        for batch in batches[index * 8 : index * 8 + 8]:
            writers[index].write(batch, [])

    def tail() -> bool:
        page = reader.query_records(RecordQuery(contract="shipment", limit=7, cursor=position[0]))
        seen.extend(r.record_id for r in page.items)
        position[0] = page.resume_cursor
        return len(seen) >= 160

    threads = [threading.Thread(target=write, args=(i,)) for i in range(2)]
    try:
        for thread in threads:
            thread.start()
        wait_until(tail, 30, "the reader to see all 160 records", poll=0.02)
        for thread in threads:
            thread.join(timeout=30)
        assert not reader.query_records(RecordQuery(contract="shipment", cursor=position[0])).items
    finally:
        for store in [*writers, reader]:
            store.close()
    assert sorted(seen) == sorted(r.record_id for batch in batches for r in batch)
