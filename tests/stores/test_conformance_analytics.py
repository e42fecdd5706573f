"""The store conformance suite, failure analytics: every store keeps the same per-minute roll-ups as
records and failures are written, retried, replayed and purged, and answers the same analytics queries."""

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import MongoClient

from replay_support import replayed
from sigma_aetl.core.analytics import OTHER, AnalyticsWindow, FailureAnalyticsQuery
from sigma_aetl.core.classes import class_id_of
from sigma_aetl.core.records import AcceptedRecord, FailureRecord
from sigma_aetl.core.taxonomy import RootCause
from sigma_aetl.errors import StoreError
from sigma_aetl.stores import Store, open_store
from sigma_aetl.stores.base import FailurePurge

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
FailureFactory = Callable[..., FailureRecord]
RecordFactory = Callable[..., AcceptedRecord]
KAFKA = {"kind": "kafka", "topic": "orders"}
HTTP = {"kind": "http", "client": "10.0.0.7:5123"}
BY_TOPIC, BY_CLIENT = "topic:orders", "client:10.0.0.7"
ROLLUPS = ("traffic_minutes", "failure_minutes", "failure_hours", "producer_minutes")


def at(minutes: float) -> datetime:
    """T0 shifted by minutes."""
    return T0 + timedelta(minutes=minutes)


def hours(bucket: str = "hour", **filters: Any) -> AnalyticsWindow:
    """The three hours from T0, in ``bucket``s."""
    return AnalyticsWindow(since=T0, until=at(180), bucket=bucket, **filters)


def failures_by(group_by: str, **options: Any) -> FailureAnalyticsQuery:
    """The three hours from T0, grouped by ``group_by``."""
    window: dict[str, Any] = {"since": T0, "until": at(180), **options}
    return FailureAnalyticsQuery(group_by=group_by, **window)


def mixed(make_record: RecordFactory, make_failure: FailureFactory) -> tuple[list[Any], list[Any]]:
    """Records and failures over three hours: hour 0 has 3 records and 4 failures, hour 1 one record and one
    failure of shipment@2, hour 2 one unknown version failure (shipment@9)."""
    records = [make_record(f"S{i}", received_at=at(i), source=KAFKA) for i in range(3)]
    records.append(make_record("S9", version=2, received_at=at(70), source=HTTP))
    failures = [
        make_failure("f0", received_at=at(1), source=KAFKA),
        make_failure("f1", received_at=at(2), source=KAFKA),
        make_failure("f2", received_at=at(3), source=HTTP, root_cause=RootCause.TYPE_MISMATCH, paths=("w",)),
        make_failure("f3", received_at=at(4), source=KAFKA, paths=("priority", "items[0].sku")),
        make_failure("f4", contract_ref="shipment@2", received_at=at(75), source=HTTP),
        make_failure("f5", contract_ref="shipment@9", routed=False, received_at=at(130), source=KAFKA),
    ]
    return records, failures


@pytest.fixture
def filled(store: Store, make_record: RecordFactory, make_failure: FailureFactory) -> Store:
    """A store holding :func:`mixed`'s records and failures."""
    records, failures = mixed(make_record, make_failure)
    store.write(records, failures)
    return store


def series(store: Store, query: FailureAnalyticsQuery) -> dict[str, list[int]]:
    """Group → counts per bucket."""
    return {s.group: s.counts for s in store.failure_analytics(query).series}


def test_failures_per_root_cause_and_hour_match_what_was_written(filled: Store) -> None:
    """Failures count per root cause and hour bucket, the largest group first."""
    answer = filled.failure_analytics(failures_by("root_cause"))
    assert answer.buckets == [T0, at(60), at(120)]
    assert [(s.group, s.total, s.counts) for s in answer.series] == [
        ("missing_field", 5, [3, 1, 1]),
        ("type_mismatch", 1, [1, 0, 0]),
    ]
    assert answer.total == 6


def test_every_group_by_counts_the_same_failures(filled: Store) -> None:
    """Version groups as addressed, field counts failed fields, producer and class count failures."""
    assert series(filled, failures_by("version")) == {
        "shipment@1": [4, 0, 0],
        "shipment@2": [0, 1, 0],
        "shipment@9": [0, 0, 1],
    }
    fields = filled.failure_analytics(failures_by("field"))
    assert {s.group: s.total for s in fields.series} == {"priority": 5, "w": 1, "items[*].sku": 1}
    assert fields.total == 7
    assert series(filled, failures_by("producer")) == {BY_TOPIC: [3, 0, 1], BY_CLIENT: [1, 1, 0]}
    classes = filled.failure_analytics(failures_by("class"))
    assert sorted(s.total for s in classes.series) == [1, 1, 1, 1, 2]


def test_minute_buckets_and_the_window_edges(filled: Store) -> None:
    """``since`` is inclusive and ``until`` exclusive, on whole minutes."""
    query = FailureAnalyticsQuery(since=at(2), until=at(4), bucket="minute")
    answer = filled.failure_analytics(query)
    assert answer.buckets == [at(2), at(3)]
    assert {s.group: s.counts for s in answer.series} == {"missing_field": [1, 0], "type_mismatch": [0, 1]}


def test_hour_buckets_end_exactly_at_until_inside_an_hour(
    filled: Store, make_failure: FailureFactory
) -> None:
    """An hour bucket cut by ``until`` counts only the minutes before it (read from the minute roll-up, the
    whole hours before it from the hourly one); day buckets sum the same failures."""
    filled.write([], [make_failure("late", received_at=at(160))])
    cut = FailureAnalyticsQuery(since=T0, until=at(150), group_by="version")
    assert {s.group: s.counts for s in filled.failure_analytics(cut).series} == {
        "shipment@1": [4, 0, 0],
        "shipment@2": [0, 1, 0],
        "shipment@9": [0, 0, 1],
    }
    assert series(filled, failures_by("version"))["shipment@1"] == [4, 0, 1]
    day = filled.failure_analytics(FailureAnalyticsQuery(since=T0, until=at(150), bucket="day"))
    assert (day.buckets, day.total) == ([T0.replace(hour=0)], 6)


def test_groups_beyond_the_limit_are_summed_into_other(filled: Store) -> None:
    """Only ``limit`` groups are named; ``other`` sums the rest and comes last."""
    answer = filled.failure_analytics(failures_by("version", limit=1))
    assert [(s.group, s.counts) for s in answer.series] == [("shipment@1", [4, 0, 0]), (OTHER, [0, 1, 1])]
    assert answer.total == 6


def test_contract_and_version_filters(filled: Store) -> None:
    """A version filter keeps that version's failures (as addressed) and traffic only."""
    assert series(filled, failures_by("root_cause", contract="shipment", version=9)) == {
        "missing_field": [0, 0, 1]
    }
    assert series(filled, failures_by("producer", contract="shipment", version=2)) == {
        "client:10.0.0.7": [0, 1, 0]
    }
    assert series(filled, failures_by("root_cause", contract="other")) == {}
    traffic = filled.traffic_analytics(hours(contract="shipment", version=1))
    assert [(v.version, v.accepted_total, v.failed_total) for v in traffic.versions] == [(1, 3, 4)]


def test_traffic_per_version_and_producer(filled: Store) -> None:
    """Accepted and failed count per version and bucket, with ratio and last minute seen, and per producer."""
    traffic = filled.traffic_analytics(hours())
    rows = [(v.version, v.accepted, v.failed, v.acceptance_ratio, v.last_seen) for v in traffic.versions]
    assert rows == [
        (1, [3, 0, 0], [4, 0, 0], round(3 / 7, 6), at(4)),
        (2, [0, 1, 0], [0, 1, 0], 0.5, at(75)),
        (9, [0, 0, 0], [0, 0, 1], 0.0, at(130)),
    ]
    producers = [(p.producer, p.accepted, p.failed, p.acceptance_ratio) for p in traffic.producers]
    assert producers == [("topic:orders", 3, 4, round(3 / 7, 6)), ("client:10.0.0.7", 1, 2, round(1 / 3, 6))]


def test_duplicates_retries_and_replays_count_once(
    filled: Store, make_record: RecordFactory, make_failure: FailureFactory
) -> None:
    """Writing the same records and failures again, or a raw failure arriving again, adds nothing; a record
    stored by a replay counts at its own ``received_at``."""
    before = filled.traffic_analytics(hours())
    records, failures = mixed(make_record, make_failure)
    filled.write(records, failures)
    raw = make_failure(received_at=at(5), identified_by="raw")
    filled.write([], [raw, raw])
    filled.write([], [raw])
    assert filled.traffic_analytics(hours()).versions[0].failed_total == before.versions[0].failed_total + 1
    late = make_record("S7", received_at=at(125), source=KAFKA)
    filled.write_replayed([replayed(late, raw.failure_id), replayed(late, raw.failure_id)])
    filled.write_replayed([replayed(late, raw.failure_id)])
    version_1 = filled.traffic_analytics(hours()).versions[0]
    assert version_1.accepted == [3, 0, 1]


def test_an_empty_window_has_its_buckets_and_no_series(filled: Store) -> None:
    """A window with nothing stored answers zero everywhere, bucket by bucket."""
    window = {"since": at(-600), "until": at(-300)}
    answer = filled.failure_analytics(FailureAnalyticsQuery(**window))
    assert (len(answer.buckets), answer.series, answer.total) == (5, [], 0)
    traffic = filled.traffic_analytics(AnalyticsWindow(**window))
    assert (traffic.versions, traffic.producers) == ([], [])
    assert filled.new_classes(at(-600), at(-300), 10) == []


def test_new_classes_are_those_first_seen_in_the_window(filled: Store, make_failure: FailureFactory) -> None:
    """New classes are the classes whose first failure falls in ``[since, until)``, most recent first."""
    found = filled.new_classes(at(2), at(130), 10)
    assert [c.first_seen for c in found] == [at(75), at(4), at(3)]
    assert filled.new_classes(at(2), at(130), 2) == found[:2]
    assert filled.new_classes(at(3), at(4), 10)[0].class_id == class_id_of(
        make_failure("f2", received_at=at(3), root_cause=RootCause.TYPE_MISMATCH, paths=("w",))
    )


def test_a_purge_takes_its_failures_out(filled: Store) -> None:
    """Purged failures leave every roll-up; a minute left empty is gone from the traffic's last seen."""
    filled.purge_failures(FailurePurge(root_cause=RootCause.TYPE_MISMATCH))
    assert series(filled, failures_by("root_cause")) == {"missing_field": [3, 1, 1]}
    filled.purge_failures(FailurePurge(contract="shipment", version=1), batch_size=2)
    traffic = filled.traffic_analytics(hours())
    assert [(v.version, v.failed_total, v.last_seen) for v in traffic.versions[:1]] == [(1, 0, at(2))]
    assert series(filled, failures_by("producer")) == {BY_TOPIC: [0, 0, 1], BY_CLIENT: [0, 1, 0]}


def strip_rollups(store_url: str) -> None:
    """Make the store look as one made before the roll-ups: empty roll-ups, not marked as built."""
    if store_url.startswith("sqlite:"):
        with sqlite3.connect(store_url.removeprefix("sqlite:///")) as conn:
            for table in ROLLUPS:
                conn.execute(f"DELETE FROM {table}")
            conn.execute("DELETE FROM store_progress WHERE name LIKE 'rollup_%'")
            conn.execute("PRAGMA user_version = 1")
        conn.close()
        return
    client: MongoClient[dict[str, Any]] = MongoClient(store_url)
    try:
        database = client.get_default_database()
        for name in ROLLUPS:
            database.drop_collection(f"sigma_aetl_{name}")
        database["sigma_aetl_meta"].delete_one({"_id": "analytics"})
        for name in database.list_collection_names():
            if name.startswith(("failed_", "validated_")):
                database[name].update_many({}, {"$unset": {"rolled": ""}})
    finally:
        client.close()


def test_a_store_made_before_the_rollups_builds_them_once_opened_for_writing(
    filled: Store, store_url: str
) -> None:
    """A store made before the roll-ups says so when opened read-only, and opened for writing builds the
    same answers from what it holds as writing them kept; a second open builds nothing more."""
    kept = (filled.failure_analytics(failures_by("producer")), filled.traffic_analytics(hours()))
    filled.close()
    strip_rollups(store_url)
    reader = open_store(store_url, read_only=True)
    try:
        with pytest.raises(StoreError, match="open it once for writing"):
            reader.traffic_analytics(hours())
    finally:
        reader.close()
    for _ in range(2):
        built = open_store(store_url)
        try:
            answers = (built.failure_analytics(failures_by("producer")), built.traffic_analytics(hours()))
            assert answers == kept
        finally:
            built.close()
