"""The store conformance suite, failure classes and producer activity: every store keeps the same classes
as failures are written, retried, replayed and purged, and answers the same class queries."""

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import MongoClient

from sigma_aetl.core.classes import MAX_SAMPLES, class_id_of
from sigma_aetl.core.records import AcceptedRecord, FailureRecord
from sigma_aetl.core.taxonomy import RootCause
from sigma_aetl.errors import StoreError
from sigma_aetl.stores import Store, open_store
from sigma_aetl.stores.base import ClassQuery, FailurePurge

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
FailureFactory = Callable[..., FailureRecord]
RecordFactory = Callable[..., AcceptedRecord]
KINDS = [
    {"root_cause": RootCause.MISSING_FIELD, "paths": ("priority",)},
    {"root_cause": RootCause.TYPE_MISMATCH, "paths": ("weight_kg",)},
    {"root_cause": RootCause.MISSING_FIELD, "paths": ("items[0].sku", "items[3].sku")},
]
"""Three kinds of failure: three classes (the third's array indices normalise to one path)."""


def at(seconds: float) -> datetime:
    """T0 shifted by seconds."""
    return T0 + timedelta(seconds=seconds)


def three_kinds(make_failure: FailureFactory, n: int) -> list[FailureRecord]:
    """``n`` failures cycling through the three kinds, one second apart, from two producers."""
    return [
        make_failure(
            f"k{i}",
            received_at=at(i),
            source={"kind": "kafka", "topic": f"t{i % 2}"},
            **KINDS[i % 3],
        )
        for i in range(n)
    ]


def write_in(store: Store, failures: list[FailureRecord], size: int = 1000) -> None:
    """Write ``failures`` in transactions of ``size``."""
    for start in range(0, len(failures), size):
        store.write([], failures[start : start + size])


def everything(store: Store) -> ClassQuery:
    """A query for every class, in the default order."""
    return ClassQuery(limit=1000)


def test_ten_thousand_failures_of_three_kinds_are_three_classes(
    store: Store, make_failure: FailureFactory
) -> None:
    """10,000 failures of three kinds give exactly three classes, with their counts, first and last seen,
    first failure, samples in write order and counts per producer."""
    failures = three_kinds(make_failure, 10_000)
    write_in(store, failures)
    page = store.query_classes(everything(store))
    assert page.total == 3
    assert sorted(c.count for c in page.items) == [3333, 3333, 3334]
    for kind, found in enumerate(sorted(page.items, key=lambda c: c.first_seen)):
        members = failures[kind::3]
        assert found.class_id == class_id_of(members[0])
        assert found.occurrences == found.count
        assert found.first_seen == members[0].received_at
        assert found.last_seen == members[-1].received_at
        assert found.first_failure_id == members[0].failure_id
        assert found.samples == tuple(f.failure_id for f in members[:MAX_SAMPLES])
        assert sum(found.producers.values()) == found.count
        assert set(found.producers) == {"topic:t0", "topic:t1"}
    assert [c.count for c in page.items] == sorted((c.count for c in page.items), reverse=True)


def test_writing_the_same_failures_again_changes_no_class(store: Store, make_failure: FailureFactory) -> None:
    """A second write of the same failures (a retry, a replay) leaves every class exactly as it was."""
    failures = three_kinds(make_failure, 3000)
    write_in(store, failures)
    before = store.query_classes(everything(store))
    write_in(store, failures, size=700)
    assert store.query_classes(everything(store)) == before


def test_raw_arrivals_count_in_occurrences_only(store: Store, make_failure: FailureFactory) -> None:
    """A failure identified by its bytes that arrives three times is one failure and three occurrences of
    its class, last seen at its last arrival."""
    copies = [
        make_failure(raw=b'{"x": 1}', identified_by="raw", received_at=at(n), source={"kind": "stdin"})
        for n in range(3)
    ]
    store.write([], copies[:2])
    store.write([], copies[2:])
    found = store.get_class(class_id_of(copies[0]))
    assert found is not None
    assert (found.count, found.occurrences) == (1, 3)
    assert found.last_seen == at(2)
    assert found.first_seen == at(0)
    assert found.producers == {"stdin": 1}


def test_get_class_of_an_unknown_id_is_none(store: Store) -> None:
    """An id no class has answers None."""
    assert store.get_class("cls_" + "0" * 32) is None


@pytest.fixture
def mixed(store: Store, make_failure: FailureFactory) -> list[FailureRecord]:
    """Failures of four classes over two contracts and two versions, from three producers."""
    cause = RootCause
    failures = [
        *(make_failure(f"a{i}", received_at=at(i), source={"kind": "stdin"}) for i in range(5)),
        *(
            make_failure(
                f"b{i}",
                contract_ref="shipment@2",
                received_at=at(100 + i),
                root_cause=cause.TYPE_MISMATCH,
                paths=("weight_kg",),
                source={"kind": "kafka", "topic": "orders"},
            )
            for i in range(3)
        ),
        *(
            make_failure(
                f"c{i}",
                contract_ref="parcel@1",
                received_at=at(50 + i),
                paths=("lines[2].qty",),
                source={"kind": "http", "client": "10.0.0.7:5000", "key_id": "key_1"},
            )
            for i in range(2)
        ),
        make_failure(
            "d", contract_ref="ghost@1", routed=False, received_at=at(200), root_cause=cause.UNKNOWN_CONTRACT
        ),
    ]
    store.write([], failures)
    return failures


def ids(store: Store, **query: object) -> list[str]:
    """The refs of the classes ``query`` finds, in its order, as `contract_ref/root cause`."""
    page = store.query_classes(ClassQuery.model_validate(query))
    return [f"{c.contract_ref}/{c.root_cause.value}" for c in page.items]


@pytest.mark.usefixtures("mixed")
def test_filters_pick_the_classes_they_name(store: Store) -> None:
    """Each filter (contract, version, root cause, normalised field, producer, since) picks its classes."""
    assert ids(store, contract="shipment") == ["shipment@1/missing_field", "shipment@2/type_mismatch"]
    assert ids(store, contract="shipment", version=2) == ["shipment@2/type_mismatch"]
    assert ids(store, root_cause="unknown_contract") == ["ghost@1/unknown_contract"]
    assert ids(store, field="lines[*].qty") == ["parcel@1/missing_field"]
    assert ids(store, field="lines[2].qty") == []
    assert ids(store, producer="key:key_1") == ["parcel@1/missing_field"]
    assert ids(store, producer="client:10.0.0.7") == ["parcel@1/missing_field"]
    assert ids(store, producer="topic:orders", contract="shipment") == ["shipment@2/type_mismatch"]
    assert ids(store, since=at(101)) == ["shipment@2/type_mismatch", "ghost@1/unknown_contract"]


@pytest.mark.usefixtures("mixed")
def test_order_and_paging(store: Store) -> None:
    """Classes come by count (ties by class id) or by last seen, a page at a time, with the total."""
    by_count = store.query_classes(ClassQuery())
    counts = [(-c.count, c.class_id) for c in by_count.items]
    assert counts == sorted(counts)
    assert ids(store, order="last_seen") == [
        "ghost@1/unknown_contract",
        "shipment@2/type_mismatch",
        "parcel@1/missing_field",
        "shipment@1/missing_field",
    ]
    first = store.query_classes(ClassQuery(limit=3))
    assert (first.total, len(first.items), first.next_offset) == (4, 3, 3)
    rest = store.query_classes(ClassQuery(limit=3, offset=3))
    assert (len(rest.items), rest.next_offset) == (1, None)
    assert [c.class_id for c in first.items + rest.items] == [c.class_id for c in by_count.items]


def test_purge_keeps_classes_right(store: Store, make_failure: FailureFactory) -> None:
    """A purge counts what it deletes out of their classes, reads a purged first failure and samples again
    from those left, and a class left without failures disappears."""
    failures = three_kinds(make_failure, 30)
    store.write([], failures)
    first_kind = failures[0::3]
    report = store.purge_failures(FailurePurge(last_seen_before=at(10)), batch_size=4)
    assert report.deleted == 10
    found = store.get_class(class_id_of(failures[0]))
    assert found is not None
    left = [f for f in first_kind if f.received_at >= at(10)]
    assert found.count == len(left)
    assert found.occurrences == len(left)
    assert found.first_failure_id == left[0].failure_id
    assert found.first_seen == left[0].received_at
    assert found.samples == tuple(f.failure_id for f in left[:MAX_SAMPLES])
    assert sum(found.producers.values()) == len(left)
    store.purge_failures(FailurePurge(root_cause=RootCause.TYPE_MISMATCH))
    assert store.get_class(class_id_of(failures[1])) is None
    assert store.query_classes(ClassQuery()).total == 2


def test_producer_activity_counts_new_accepted_records(store: Store, make_record: RecordFactory) -> None:
    """Accepted records count per contract version and producer, first and last received; a replayed record
    adds nothing."""
    kafka = {"kind": "kafka", "topic": "orders"}
    records = [make_record(f"S{i}", received_at=at(i), source=kafka) for i in range(4)]
    records.append(make_record("V2", version=2, received_at=at(9), source=kafka))
    store.write(records[:2], [])
    store.write(records, [])
    activity = store.producer_activity("shipment", "topic:orders")
    assert [(a.version, a.accepted) for a in activity] == [(1, 4), (2, 1)]
    assert (activity[0].first_accepted, activity[0].last_accepted) == (at(0), at(3))
    assert store.producer_activity("shipment", "topic:other") == []


def strip_classes(store_url: str) -> None:
    """Make the store look as one made before classes: no class tables or collections, no ``class_id`` on
    failures, no ``producers`` on records, not marked as built."""
    if store_url.startswith("sqlite:"):
        with sqlite3.connect(store_url.removeprefix("sqlite:///")) as conn:
            for table in ("failure_classes", "class_fields", "class_producers", "producer_activity"):
                conn.execute(f"DROP TABLE {table}")
            conn.execute("DROP TABLE store_progress")
            conn.execute("DROP INDEX failures_class")
            conn.execute("ALTER TABLE failures DROP COLUMN class_id")
            conn.execute("PRAGMA user_version = 0")
        conn.close()
        return
    client: MongoClient[dict[str, Any]] = MongoClient(store_url)
    try:
        database = client.get_default_database()
        for name in ("sigma_aetl_failure_classes", "sigma_aetl_producer_activity", "sigma_aetl_meta"):
            database.drop_collection(name)
        for name in database.list_collection_names():
            if name.startswith("failed_"):
                database[name].update_many({}, {"$unset": {"class_id": ""}})
            if name.startswith("validated_"):
                database[name].update_many({}, {"$unset": {"producers": ""}})
    finally:
        client.close()


def test_a_store_made_before_classes_builds_them_once_opened_for_writing(
    store: Store, store_url: str, make_failure: FailureFactory, make_record: RecordFactory
) -> None:
    """A store made before classes says so when opened read-only, and opened for writing builds the same
    classes and producer activity from what it holds as writing them kept."""
    failures = three_kinds(make_failure, 2500)
    write_in(store, failures)
    kafka = {"kind": "kafka", "topic": "orders"}
    store.write([make_record(f"S{i}", received_at=at(i), source=kafka) for i in range(3)], [])
    kept = store.query_classes(everything(store))
    activity = store.producer_activity("shipment", "topic:orders")
    store.close()
    strip_classes(store_url)
    reader = open_store(store_url, read_only=True)
    try:
        with pytest.raises(StoreError, match="open it once for writing"):
            reader.query_classes(ClassQuery())
    finally:
        reader.close()
    built = open_store(store_url)
    try:
        assert built.query_classes(everything(built)) == kept
        assert built.producer_activity("shipment", "topic:orders") == activity
    finally:
        built.close()
    again = open_store(store_url)  # a second open builds nothing more
    try:
        assert again.query_classes(everything(again)) == kept
    finally:
        again.close()
