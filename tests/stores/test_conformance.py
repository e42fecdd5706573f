"""The store conformance suite: the same behaviour from every store, SQLite and MongoDB alike."""

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core.envelope import Envelope
from sigma_aetl.core.records import AcceptedRecord, FailureRecord
from sigma_aetl.core.taxonomy import RootCause
from sigma_aetl.errors import InvalidCursor
from sigma_aetl.ingest.pipeline import Pipeline
from sigma_aetl.stores import Store, cursor
from sigma_aetl.stores.base import FailureQuery, RecordPage, RecordQuery, WriteReport
from sigma_aetl.stores.mongo import MongoStore
from sigma_aetl.testing import INVALID_SHIPMENT, INVALID_UTF8, VALID_SHIPMENT

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)  # the factories' default receipt time
RecordFactory = Callable[..., AcceptedRecord]
FailureFactory = Callable[..., FailureRecord]


def at(microseconds: int) -> datetime:
    """T0 shifted by a number of microseconds."""
    return T0 + timedelta(microseconds=microseconds)


# -- empty store --------------------------------------------------------------------------------------


def test_empty_store_counts_nothing(store: Store) -> None:
    """An empty store reports zero of everything and an empty first page."""
    stats = store.stats()
    assert (stats.accepted_total, stats.failures_total) == (0, 0)
    assert stats.accepted_by_contract == stats.failures_by_contract == stats.failures_by_root_cause == {}
    page = store.query_failures(FailureQuery())
    assert (page.items, page.total, page.limit, page.offset) == ([], 0, 50, 0)


def test_empty_store_finds_no_ids(store: Store) -> None:
    """Looking up any id in an empty store answers None."""
    assert store.get_record("rec_missing") is None
    assert store.get_failure("fail_missing") is None


def test_empty_write_reports_nothing(store: Store) -> None:
    """Writing nothing reports nothing."""
    assert store.write([], []) == WriteReport()


def test_ping_answers_when_up(store: Store) -> None:
    """A reachable store answers ping without raising."""
    store.ping()


# -- writes and idempotency ---------------------------------------------------------------------------


def test_first_write_reports_every_id_new(
    store: Store, make_record: RecordFactory, make_failure: FailureFactory
) -> None:
    """A first write reports exactly the ids it stored as new and nothing as existing."""
    records = [make_record("S1"), make_record("S2")]
    failures = [make_failure("k1"), make_failure("k2", routed=False, contract_ref="ghost@1")]
    report = store.write(records, failures)
    assert report.new_records == {r.record_id for r in records}
    assert report.new_failures == {f.failure_id for f in failures}
    assert report.existing_records == {}
    assert report.existing_failures == set()


def test_rewrite_is_all_existing(
    store: Store, make_record: RecordFactory, make_failure: FailureFactory
) -> None:
    """Writing the same records again stores nothing new and reports every id as existing."""
    records = [make_record("S1"), make_record("S2", contract="parcel", version=3)]
    failures = [make_failure("k1"), make_failure("k2", routed=False, contract_ref="ghost@1")]
    store.write(records, failures)
    report = store.write(records, failures)
    assert report.new_records == set()
    assert report.new_failures == set()
    assert report.existing_records == {r.record_id: r.content_hash for r in records}
    assert report.existing_failures == {f.failure_id for f in failures}
    assert (store.stats().accepted_total, store.stats().failures_total) == (2, 2)


def test_mixed_write_separates_new_from_existing(
    store: Store, make_record: RecordFactory, make_failure: FailureFactory
) -> None:
    """A write of stored and unstored ids reports each on its side."""
    old_record, old_failure = make_record("S1"), make_failure("k1")
    store.write([old_record], [old_failure])
    new_record, new_failure = make_record("S2"), make_failure("k2")
    report = store.write([old_record, new_record], [new_failure, old_failure])
    assert report.new_records == {new_record.record_id}
    assert report.existing_records == {old_record.record_id: old_record.content_hash}
    assert report.new_failures == {new_failure.failure_id}
    assert report.existing_failures == {old_failure.failure_id}


def test_existing_record_reports_the_stored_content_hash(store: Store, make_record: RecordFactory) -> None:
    """Rewriting an id with other content reports the stored hash and leaves the stored record untouched."""
    first = make_record("S1", data={"destination": "Cork"})
    second = make_record("S1", data={"destination": "Dublin"})
    assert first.record_id == second.record_id
    store.write([first], [])
    report = store.write([second], [])
    assert report.existing_records == {first.record_id: first.content_hash}
    assert report.new_records == set()
    assert store.get_record(first.record_id) == first


def test_same_id_twice_in_one_write_is_stored_once(
    store: Store, make_record: RecordFactory, make_failure: FailureFactory
) -> None:
    """Two copies of an id within one write store the first, once."""
    first, copy = make_record("S1", data={"n": 1}), make_record("S1", data={"n": 2})
    failure = make_failure("k1")
    report = store.write([first, copy], [failure, failure])
    assert report.new_records == {first.record_id}
    assert report.new_failures == {failure.failure_id}
    assert store.get_record(first.record_id) == first
    assert (store.stats().accepted_total, store.stats().failures_total) == (1, 1)


def test_failure_id_is_stored_once_routed_or_not(store: Store, make_failure: FailureFactory) -> None:
    """A failure id stored while its contract was unknown still counts as stored once the contract routes."""
    unrouted = make_failure(
        "k1", contract_ref="shipment@2", routed=False, root_cause=RootCause.UNKNOWN_VERSION
    )
    routed = make_failure("k1", contract_ref="shipment@2", root_cause=RootCause.TYPE_MISMATCH)
    assert unrouted.failure_id == routed.failure_id
    store.write([], [unrouted])
    report = store.write([], [routed])
    assert report.existing_failures == {routed.failure_id}
    assert report.new_failures == set()
    assert store.get_failure(routed.failure_id) == unrouted
    assert store.stats().failures_total == 1


def test_failure_id_is_stored_once_routed_first(store: Store, make_failure: FailureFactory) -> None:
    """A failure id stored under its contract is not stored again as unrouted."""
    routed = make_failure("k1", contract_ref="shipment@1")
    unrouted = make_failure(
        "k1", contract_ref="shipment@1", routed=False, root_cause=RootCause.UNKNOWN_VERSION
    )
    store.write([], [routed])
    report = store.write([], [unrouted])
    assert report.existing_failures == {routed.failure_id}
    assert store.get_failure(routed.failure_id) == routed


# -- round trips --------------------------------------------------------------------------------------


def test_record_round_trips_exactly(store: Store, make_record: RecordFactory) -> None:
    """A record with huge integers, unicode and microseconds reads back equal to what was written."""
    data = {
        "huge": 2**70,
        "negative_huge": -(2**90) - 7,
        "unicode": "Dún Laoghaire — 東京 🚚",
        "nested": {"list": [1, 2.5, None, True, {"z": "ß"}], "empty": {}},
        "float": 0.1,
    }
    record = make_record(
        "SHIP-ü-1",
        data=data,
        received_at=at(123_457),
        source={"kind": "kafka", "topic": "ship", "partition": 3, "offset": 2**40, "headers": {"h": "v"}},
    )
    store.write([record], [])
    stored = store.get_record(record.record_id)
    assert stored == record
    assert stored is not None
    assert stored.received_at.microsecond == 123_457
    assert stored.received_at.utcoffset() == timedelta(0)
    assert stored.data["huge"] == 2**70


def test_failure_round_trips_invalid_utf8_bytes(store: Store, make_failure: FailureFactory) -> None:
    """A failure keeps raw bytes that are not UTF-8 exactly, and every other field."""
    raw = b'{"shipment_id": "SHIP-\xff\xfe"}\x00\x80'
    failure = make_failure(
        "k1",
        raw=raw,
        root_cause=RootCause.INVALID_ENCODING,
        paths=("",),
        received_at=at(999_999),
        conflicts_with="rec_0",
        source={"kind": "kafka", "topic": "t", "partition": 0, "offset": 7, "key": None, "big": 2**80},
    )
    store.write([], [failure])
    stored = store.get_failure(failure.failure_id)
    assert stored == failure
    assert stored is not None
    assert stored.raw.encoding == "base64"
    assert stored.raw.to_bytes() == raw


def test_unrouted_failure_round_trips(store: Store, make_failure: FailureFactory) -> None:
    """A failure with no contract reads back with its contract, version and fingerprint still empty."""
    failure = make_failure("k1", contract_ref="?@?", routed=False, root_cause=RootCause.UNROUTED, paths=("",))
    store.write([], [failure])
    assert store.get_failure(failure.failure_id) == failure


def test_unknown_ids_are_none_in_a_filled_store(
    store: Store, make_record: RecordFactory, make_failure: FailureFactory
) -> None:
    """Ids never written answer None, even as the other kind's id."""
    record, failure = make_record("S1"), make_failure("k1")
    store.write([record], [failure])
    assert store.get_record("rec_missing") is None
    assert store.get_failure("fail_missing") is None
    assert store.get_record(failure.failure_id) is None
    assert store.get_failure(record.record_id) is None


def test_records_of_several_contracts_are_all_found(store: Store, make_record: RecordFactory) -> None:
    """Records of different contracts and versions are each found by id."""
    records = [
        make_record("S1"),
        make_record("S1", version=2),
        make_record("P1", contract="parcel"),
        make_record("P2", contract="parcel", version=7),
    ]
    store.write(records, [])
    assert [store.get_record(r.record_id) for r in records] == records


# -- the pipeline: duplicates and identity conflicts --------------------------------------------------


def _envelope(raw: bytes, received_at: datetime = T0, **extra: Any) -> Envelope:
    extra.setdefault("source", {"kind": "test"})
    return Envelope(raw=raw, contract="shipment", version="1", received_at=received_at, **extra)


def test_pipeline_redelivery_writes_nothing_new(store: Store, registry: Registry) -> None:
    """The same batch processed twice is stored once; the second pass reports duplicates only."""
    pipeline = Pipeline(registry, store)
    batch = [_envelope(VALID_SHIPMENT), _envelope(INVALID_SHIPMENT), _envelope(INVALID_UTF8)]
    first = pipeline.process(batch)
    second = pipeline.process(batch)
    assert [o.duplicate for o in first] == [False, False, False]
    assert [o.duplicate for o in second] == [True, True, True]
    assert [(o.record_id, o.failure_id) for o in first] == [(o.record_id, o.failure_id) for o in second]
    assert (store.stats().accepted_total, store.stats().failures_total) == (1, 2)


def test_pipeline_turns_other_content_into_an_identity_conflict(store: Store, registry: Registry) -> None:
    """A valid event whose identity is stored with other content is an identity_conflict; the first stays."""
    pipeline = Pipeline(registry, store)
    [accepted] = pipeline.process([_envelope(VALID_SHIPMENT)])
    assert accepted.record_id is not None
    original = store.get_record(accepted.record_id)
    other = VALID_SHIPMENT.replace(b"15.2", b"16.0")
    [conflict] = pipeline.process([_envelope(other, received_at=at(5))])
    assert conflict.status == "FAILED"
    assert conflict.root_cause == RootCause.IDENTITY_CONFLICT
    assert conflict.failure_id is not None
    stored = store.get_failure(conflict.failure_id)
    assert stored is not None
    assert stored.conflicts_with == accepted.record_id
    assert stored.raw.to_bytes() == other
    assert store.get_record(accepted.record_id) == original
    page = store.query_failures(FailureQuery(root_cause=RootCause.IDENTITY_CONFLICT))
    assert [f.failure_id for f in page.items] == [conflict.failure_id]


def test_pipeline_identity_conflict_is_itself_idempotent(store: Store, registry: Registry) -> None:
    """The same conflicting event delivered twice is one identity_conflict failure, reported duplicate."""
    pipeline = Pipeline(registry, store)
    pipeline.process([_envelope(VALID_SHIPMENT)])
    other = _envelope(VALID_SHIPMENT.replace(b"Dublin", b"Cork"), idempotency_key="evt-2")
    [first] = pipeline.process([other])
    [again] = pipeline.process([other])
    assert (first.duplicate, again.duplicate) == (False, True)
    assert first.failure_id == again.failure_id
    assert store.stats().failures_by_root_cause == {"identity_conflict": 1}


# -- failure queries ----------------------------------------------------------------------------------


@pytest.fixture
def failures(store: Store, make_failure: FailureFactory) -> list[FailureRecord]:
    """A spread of failures over contracts, versions, causes, fields and times, stored in ``store``."""
    cause = RootCause
    spread = [
        make_failure("a", received_at=at(0), root_cause=cause.MISSING_FIELD, paths=("priority",)),
        make_failure("b", received_at=at(0), root_cause=cause.TYPE_MISMATCH, paths=("weight_kg", "priority")),
        make_failure("c", contract_ref="shipment@2", received_at=at(100), paths=("weight_kg",)),
        make_failure(
            "d",
            contract_ref="parcel@1",
            received_at=at(900),
            root_cause=cause.CONSTRAINT_VIOLATION,
            paths=("weight_kg",),
        ),
        make_failure(
            "e",
            contract_ref="ghost@1",
            routed=False,
            received_at=at(1_000),
            root_cause=cause.UNKNOWN_CONTRACT,
            paths=("",),
        ),
        make_failure(
            "f",
            contract_ref="shipment@9",
            routed=False,
            received_at=at(1_001),
            root_cause=cause.UNKNOWN_VERSION,
            paths=("",),
        ),
        make_failure(
            "g", received_at=at(60_000_000), root_cause=cause.BUSINESS_RULE_VIOLATION, paths=("weight_kg",)
        ),
        make_failure("h", contract_ref="parcel@1", received_at=at(3_600_000_000), paths=("priority",)),
        make_failure(
            "i",
            contract_ref="shipment@2",
            received_at=at(-1),
            root_cause=cause.IDENTITY_CONFLICT,
            paths=("",),
        ),
        make_failure(
            "j", received_at=at(86_400_000_000), root_cause=cause.UNEXPECTED_FIELD, paths=("colour",)
        ),
        make_failure("k", received_at=at(86_400_000_000), paths=("priority", "destination")),
        make_failure(
            "l",
            contract_ref="?@?",
            routed=False,
            received_at=at(-86_400_000_000),
            root_cause=cause.UNROUTED,
            paths=("",),
        ),
    ]
    store.write([], spread)
    return spread


def expected(failures: list[FailureRecord], query: FailureQuery) -> list[str]:
    """The ids a store must answer for ``query``, newest first, ties broken by failure id descending."""
    kept = [
        f
        for f in failures
        if (query.contract is None or f.contract == query.contract)
        and (query.version is None or f.version == query.version)
        and (query.root_cause is None or f.root_cause == query.root_cause)
        and (query.field is None or query.field in f.fields)
        and (query.since is None or f.received_at >= query.since)
        and (query.until is None or f.received_at < query.until)
    ]
    kept.sort(key=lambda f: (f.received_at, f.failure_id), reverse=True)
    return [f.failure_id for f in kept]


FILTERS: dict[str, dict[str, Any]] = {
    "no filter": {},
    "contract": {"contract": "shipment"},
    "another contract": {"contract": "parcel"},
    "unregistered contract": {"contract": "ghost"},
    "version": {"version": 2},
    "root cause": {"root_cause": RootCause.MISSING_FIELD},
    "routing root cause": {"root_cause": RootCause.UNKNOWN_VERSION},
    "field": {"field": "weight_kg"},
    "whole-payload field": {"field": ""},
    "absent field": {"field": "nowhere"},
    "since, inclusive": {"since": at(1_000)},
    "until, exclusive": {"until": at(900)},
    "sub-millisecond window": {"since": at(100), "until": at(900)},
    "same millisecond, one microsecond apart": {"since": at(1_001), "until": at(1_002)},
    "contract and version": {"contract": "shipment", "version": 1},
    "contract and field": {"contract": "shipment", "field": "priority"},
    "version and root cause": {"version": 1, "root_cause": RootCause.MISSING_FIELD},
    "field and time window": {"field": "weight_kg", "since": at(0), "until": at(60_000_001)},
    "every filter": {
        "contract": "shipment",
        "version": 1,
        "root_cause": RootCause.MISSING_FIELD,
        "field": "priority",
        "since": at(0),
        "until": at(86_400_000_001),
    },
    "filters matching nothing": {"contract": "parcel", "version": 2},
}


@pytest.mark.parametrize("filters", FILTERS.values(), ids=FILTERS.keys())
def test_query_filters(store: Store, failures: list[FailureRecord], filters: dict[str, Any]) -> None:
    """Each filter, alone or combined, selects exactly the matching failures, newest first."""
    query = FailureQuery(limit=100, **filters)
    page = store.query_failures(query)
    want = expected(failures, query)
    assert [f.failure_id for f in page.items] == want
    assert page.total == len(want)


def test_query_filters_are_not_vacuous(failures: list[FailureRecord]) -> None:
    """Every filter case but the empty ones keeps some failures and drops others."""
    empty = {"unregistered contract", "absent field", "filters matching nothing"}
    for name, filters in FILTERS.items():
        kept = len(expected(failures, FailureQuery(**filters)))
        assert (kept == 0) == (name in empty), name
        assert kept < len(failures) or name == "no filter", name


def test_query_items_are_whole_records(store: Store, failures: list[FailureRecord]) -> None:
    """A query's items equal the failure records written, field for field."""
    page = store.query_failures(FailureQuery(limit=100))
    by_id = {f.failure_id: f for f in failures}
    assert page.items == [by_id[f.failure_id] for f in page.items]


def test_newest_first_with_ties_by_failure_id(store: Store, failures: list[FailureRecord]) -> None:
    """Failures come newest first; failures received at the same instant come by failure id, descending."""
    items = store.query_failures(FailureQuery(limit=100)).items
    keys = [(f.received_at, f.failure_id) for f in items]
    assert keys == sorted(keys, reverse=True)
    assert items[0].received_at == items[1].received_at == at(86_400_000_000)


@pytest.mark.parametrize("limit", [1, 3, 5, 12])
def test_pages_concatenate_to_the_whole(store: Store, failures: list[FailureRecord], limit: int) -> None:
    """Walking pages of any size yields every match once, in order, each page with the full total."""
    seen: list[str] = []
    for offset in range(0, len(failures), limit):
        page = store.query_failures(FailureQuery(limit=limit, offset=offset))
        assert (page.total, page.limit, page.offset) == (len(failures), limit, offset)
        assert len(page.items) == min(limit, len(failures) - offset)
        seen += [f.failure_id for f in page.items]
    assert seen == expected(failures, FailureQuery())


def test_filtered_pages(store: Store, failures: list[FailureRecord]) -> None:
    """Paging applies after filtering, and the total counts all filtered matches."""
    query = FailureQuery(field="priority", limit=2, offset=1)
    page = store.query_failures(query)
    want = expected(failures, query)
    assert page.total == len(want) == 4
    assert [f.failure_id for f in page.items] == want[1:3]


def test_offset_past_the_end(store: Store, failures: list[FailureRecord]) -> None:
    """An offset beyond the matches gives an empty page that still reports the total."""
    page = store.query_failures(FailureQuery(offset=50, limit=10))
    assert (page.items, page.total) == ([], len(failures))


def test_paging_over_many_failures(store: Store, make_failure: FailureFactory) -> None:
    """Pages over hundreds of failures in several contracts neither skip nor repeat any."""
    refs = ["shipment@1", "parcel@1", "ghost@1"]
    many = [
        make_failure(f"m{n}", contract_ref=refs[n % 3], routed=n % 3 != 2, received_at=at((n * 7919) % 1000))
        for n in range(300)
    ]
    store.write([], many)
    pages = [store.query_failures(FailureQuery(limit=40, offset=offset)) for offset in range(0, 300, 40)]
    assert [f.failure_id for page in pages for f in page.items] == expected(many, FailureQuery())
    assert {page.total for page in pages} == {300}


# -- stats --------------------------------------------------------------------------------------------


def test_stats_count_by_contract_and_root_cause(
    store: Store, make_record: RecordFactory, failures: list[FailureRecord]
) -> None:
    """Stats count accepted records per name@version, failures per contract as addressed and per cause."""
    records = [
        make_record("S1"),
        make_record("S2"),
        make_record("S1", version=2),
        make_record("P", contract="parcel"),
    ]
    store.write(records, [])
    stats = store.stats()
    assert stats.accepted_total == 4
    assert stats.accepted_by_contract == {"parcel@1": 1, "shipment@1": 2, "shipment@2": 1}
    assert stats.failures_total == len(failures)
    assert stats.failures_by_contract == _count(f.contract_ref for f in failures)
    assert stats.failures_by_root_cause == _count(f.root_cause.value for f in failures)


def test_stats_do_not_count_rewrites(
    store: Store, make_record: RecordFactory, make_failure: FailureFactory
) -> None:
    """Writing the same records again leaves every count unchanged."""
    records, failures = [make_record("S1")], [make_failure("k1"), make_failure("k2", routed=False)]
    store.write(records, failures)
    before = store.stats()
    store.write(records, failures)
    assert store.stats() == before


def _count(values: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return dict(sorted(counts.items()))


# -- raw payloads of one contract version (read-only, for `contracts try`) -------------------------------


def test_raw_payloads_of_an_empty_store(store: Store) -> None:
    """An empty store has no raw payloads for any version."""
    assert list(store.raw_payloads("shipment", 1)) == []


def test_raw_payloads_are_one_versions_records_then_failures_each_once(
    store: Store, make_record: RecordFactory, make_failure: FailureFactory
) -> None:
    """Only the version asked for, accepted records first then failures, each once, in batches."""
    records = [make_record(f"S{n}", raw=f"record {n}".encode()) for n in range(5)]
    failures = [
        make_failure(f"k{n}", raw=INVALID_UTF8 if n == 0 else f"failure {n}".encode()) for n in range(3)
    ]
    others = [make_record("S9", version=2), make_record("S9", contract="parcel")]
    elsewhere = [make_failure("k9", contract_ref="shipment@2"), make_failure("k8", routed=False)]
    store.write([*records, *others], [*failures, *elsewhere])
    stats = store.stats()
    batches = list(store.raw_payloads("shipment", 1, batch_size=2))
    assert [len(batch) for batch in batches] == [2, 2, 1, 2, 1]  # records, then failures
    found = [(p.kind, p.id, p.raw) for batch in batches for p in batch]
    expected_records = sorted(("record", r.record_id, r.raw.text) for r in records)
    expected_failures = sorted(("failure", f.failure_id, f.raw.text) for f in failures)
    assert sorted((kind, pid, raw.text) for kind, pid, raw in found[:5]) == expected_records
    assert sorted((kind, pid, raw.text) for kind, pid, raw in found[5:]) == expected_failures
    assert INVALID_UTF8 in {raw.to_bytes() for _, _, raw in found}
    assert store.stats() == stats


def test_raw_payloads_of_another_version_or_contract(
    store: Store, make_record: RecordFactory, make_failure: FailureFactory
) -> None:
    """Asking for a version or contract that holds nothing gives nothing, even in a filled store."""
    store.write([make_record("S1")], [make_failure("k1")])
    assert list(store.raw_payloads("shipment", 3)) == []
    assert list(store.raw_payloads("parcel", 1)) == []
    assert [[p.kind for p in batch] for batch in store.raw_payloads("shipment", 1)] == [
        ["record"],
        ["failure"],
    ]


# -- the records stream: GET /v1/records and `records export` ----------------------------------------


@pytest.fixture
def reader(store: Store) -> Store:
    """``store``, with MongoDB's settled horizon moved past everything written (tests/stores/test_mongo.py
    checks the horizon itself); SQLite has none: it shows a record once it is committed."""
    if isinstance(store, MongoStore):
        settle = store.settle
        store.clock = lambda: datetime.now(UTC) + settle + timedelta(seconds=2)
    return store


def stream(store: Store, query: RecordQuery) -> list[RecordPage]:
    """Every page of ``query``, following ``next_cursor`` from the query's own cursor to the end."""
    pages = [store.query_records(query)]
    while pages[-1].next_cursor is not None:
        assert len(pages) < 1000, "the stream does not end: its cursor does not advance"
        pages.append(store.query_records(query.model_copy(update={"cursor": pages[-1].next_cursor})))
    return pages


def streamed(pages: list[RecordPage]) -> list[str]:
    """The record ids on ``pages``, in order."""
    return [record.record_id for page in pages for record in page.items]


@pytest.fixture
def records(reader: Store, make_record: RecordFactory) -> list[AcceptedRecord]:
    """A spread of records over contracts, versions and receipt times, each stored by a write of its own
    (so the stream order is the list order in every store)."""
    spread = [
        make_record("a", received_at=at(0)),
        make_record("b", version=2, received_at=at(5)),
        make_record("c", contract="parcel", received_at=at(5)),
        make_record("d", received_at=at(-1)),  # received earlier, stored later (a retried Kafka batch)
        make_record("e", received_at=at(1_000)),
        make_record("f", version=2, received_at=at(1_001)),
        make_record("g", contract="parcel", version=3, received_at=at(60_000_000)),
        make_record("h", received_at=at(86_400_000_000)),
        make_record("i", version=3, received_at=at(1_000)),
        make_record("j", received_at=at(1_000)),
    ]
    for record in spread:
        reader.write([record], [])
    return spread


def expected_records(records: list[AcceptedRecord], query: RecordQuery) -> list[str]:
    """The ids a store must stream for ``query``: the stored order, filtered."""
    return [
        r.record_id
        for r in records
        if (query.contract is None or r.contract == query.contract)
        and (query.version is None or r.version == query.version)
        and (query.since is None or r.received_at >= query.since)
        and (query.until is None or r.received_at < query.until)
    ]


RECORD_FILTERS: dict[str, dict[str, Any]] = {
    "no filter": {},
    "contract, every version": {"contract": "shipment"},
    "another contract": {"contract": "parcel"},
    "unknown contract": {"contract": "ghost"},
    "contract and version": {"contract": "shipment", "version": 2},
    "version alone": {"version": 3},
    "since, inclusive": {"since": at(1_000)},
    "until, exclusive": {"until": at(5)},
    "same millisecond, one microsecond apart": {"since": at(1_001), "until": at(1_002)},
    "contract and time window": {"contract": "shipment", "since": at(0), "until": at(1_001)},
    "every filter": {"contract": "shipment", "version": 1, "since": at(-1), "until": at(86_400_000_000)},
    "filters matching nothing": {"contract": "parcel", "version": 2},
}


@pytest.mark.parametrize("filters", RECORD_FILTERS.values(), ids=RECORD_FILTERS.keys())
def test_record_filters(reader: Store, records: list[AcceptedRecord], filters: dict[str, Any]) -> None:
    """Each filter, alone or combined, streams exactly the matching records, in the order they were stored."""
    query = RecordQuery(**filters)
    page = reader.query_records(query)
    assert [r.record_id for r in page.items] == expected_records(records, query)
    assert page.next_cursor is None


def test_record_filters_are_not_vacuous(records: list[AcceptedRecord]) -> None:
    """Every filter case but the empty ones keeps some records and drops others."""
    empty = {"unknown contract", "filters matching nothing"}
    for name, filters in RECORD_FILTERS.items():
        kept = len(expected_records(records, RecordQuery(**filters)))
        assert (kept == 0) == (name in empty), name
        assert kept < len(records) or name == "no filter", name


def test_stream_items_are_whole_records(reader: Store, records: list[AcceptedRecord]) -> None:
    """The stream's items equal the records written, field for field, as GET /v1/records/{id} has them."""
    items = reader.query_records(RecordQuery()).items
    assert items == records
    assert all(reader.get_record(r.record_id) == r for r in items)


@pytest.mark.parametrize("limit", [1, 3, 4, 10, 11])
@pytest.mark.parametrize("filters", [{}, {"contract": "shipment"}, {"contract": "shipment", "version": 1}])
def test_record_pages_concatenate_to_the_whole(
    reader: Store, records: list[AcceptedRecord], limit: int, filters: dict[str, Any]
) -> None:
    """Following next_cursor with any page size yields every match once, in order, in as few pages as
    possible; only the last page has no next cursor."""
    query = RecordQuery(limit=limit, **filters)
    pages = stream(reader, query)
    want = expected_records(records, query)
    assert streamed(pages) == want
    assert len(pages) == max(1, -(-len(want) // limit))
    assert all(page.limit == limit and page.next_cursor == page.resume_cursor for page in pages[:-1])
    assert all(len(page.items) == limit for page in pages[:-1])


def test_an_empty_store_streams_nothing_and_can_be_resumed(reader: Store, make_record: RecordFactory) -> None:
    """An empty store gives one empty page with no next cursor; its resume cursor later yields what was
    stored since."""
    query = RecordQuery(contract="shipment")
    empty = reader.query_records(query)
    assert (empty.items, empty.next_cursor, empty.limit) == ([], None, 100)
    record = make_record("S1")
    reader.write([record], [])
    later = reader.query_records(query.model_copy(update={"cursor": empty.resume_cursor}))
    assert later.items == [record]


@pytest.mark.parametrize("filters", [{}, {"contract": "shipment"}, {"contract": "shipment", "version": 1}])
def test_resuming_yields_what_was_stored_after_the_last_page(
    reader: Store, records: list[AcceptedRecord], make_record: RecordFactory, filters: dict[str, Any]
) -> None:
    """A consumer that read to the end and resumes from its resume cursor gets exactly the matching records
    stored since — also of a version stored for the first time — and nothing it already had."""
    query = RecordQuery(limit=3, **filters)
    first = stream(reader, query)
    later = [
        make_record("k"),
        make_record("k", contract="parcel"),
        make_record("l", version=9),  # a version the store did not hold when the consumer read
        make_record("m", received_at=at(-5)),
    ]
    for record in later:
        reader.write([record], [])
    second = stream(reader, query.model_copy(update={"cursor": first[-1].resume_cursor}))
    assert streamed(second) == expected_records(later, query)
    assert streamed(first) + streamed(second) == expected_records([*records, *later], query)
    third = reader.query_records(query.model_copy(update={"cursor": second[-1].resume_cursor}))
    assert (third.items, third.next_cursor, third.resume_cursor) == ([], None, second[-1].resume_cursor)


def test_a_record_stored_again_is_not_streamed_again(
    reader: Store, records: list[AcceptedRecord], make_record: RecordFactory
) -> None:
    """A redelivered record (same id) stores nothing, so a resumed stream does not show it a second time."""
    end = stream(reader, RecordQuery())[-1].resume_cursor
    reader.write([records[0], make_record("n")], [])
    assert streamed(stream(reader, RecordQuery(cursor=end))) == [make_record("n").record_id]


def test_records_of_one_write_stream_in_the_order_written(reader: Store, make_record: RecordFactory) -> None:
    """The records of one write, of one contract, stream in the order they were handed to the store."""
    batch = [make_record(f"S{n:03}", received_at=at((n * 7919) % 100)) for n in range(250)]
    reader.write(batch, [])
    assert streamed(stream(reader, RecordQuery(limit=40))) == [r.record_id for r in batch]


def test_records_of_several_contracts_in_one_write_stream_once(
    reader: Store, make_record: RecordFactory
) -> None:
    """A write spanning contracts and versions streams each record once, each contract in written order."""
    batch = [
        make_record(f"S{n}", contract=["shipment", "parcel"][n % 2], version=1 + n % 3) for n in range(30)
    ]
    reader.write(batch, [])
    ids = streamed(stream(reader, RecordQuery(limit=7)))
    assert sorted(ids) == sorted(r.record_id for r in batch)
    for name in ("shipment", "parcel"):
        mine = [r.record_id for r in batch if r.contract == name]
        assert [i for i in ids if i in mine] == mine
        assert streamed(stream(reader, RecordQuery(contract=name, limit=4))) == mine


BAD_CURSORS = {
    "empty": "",
    "not base64": "not a cursor!",
    "base64 of nothing useful": base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    "JSON of another shape": base64.urlsafe_b64encode(b'{"after": "3"}').decode(),
    "JSON that is a list": base64.urlsafe_b64encode(b"[1]").decode(),
    "non-ASCII": "curseur-é",
}


@pytest.mark.parametrize("bad", BAD_CURSORS.values(), ids=BAD_CURSORS.keys())
def test_a_malformed_cursor_is_refused(reader: Store, bad: str) -> None:
    """A cursor the store did not issue is InvalidCursor, never a store error or a crash."""
    with pytest.raises(InvalidCursor, match="not one this API issued"):
        reader.query_records(RecordQuery(cursor=bad))


@pytest.mark.parametrize(
    "other",
    [
        {"contract": "parcel"},
        {"contract": None},
        {"version": 2},
        {"since": at(0)},
        {"until": at(1)},
    ],
)
def test_a_cursor_for_other_filters_is_refused(
    reader: Store, records: list[AcceptedRecord], other: dict[str, Any]
) -> None:
    """A cursor issued for some filters is refused with others, saying which it was issued for."""
    query = RecordQuery(contract="shipment", version=1, limit=2)
    issued = reader.query_records(query).resume_cursor
    with pytest.raises(InvalidCursor, match="issued for contract='shipment', version=1"):
        reader.query_records(query.model_copy(update={**other, "cursor": issued}))


def test_the_same_instant_in_another_zone_is_the_same_filter(
    reader: Store, records: list[AcceptedRecord]
) -> None:
    """A cursor issued with since in UTC resumes with the same instant written in another time zone."""
    query = RecordQuery(since=at(0), limit=2)
    issued = reader.query_records(query).resume_cursor
    elsewhere = at(0).astimezone(timezone(timedelta(hours=-5)))
    page = reader.query_records(RecordQuery(since=elsewhere, limit=2, cursor=issued))
    assert page.items


def test_a_cursor_of_another_kind_of_store_is_refused(reader: Store) -> None:
    """A cursor another kind of store issued says so."""
    mine: cursor.StoreKind = "mongodb" if isinstance(reader, MongoStore) else "sqlite"
    other: cursor.StoreKind = "sqlite" if mine == "mongodb" else "mongodb"
    query = RecordQuery()
    foreign = cursor.issue(query, other, "1" if other == "sqlite" else "0" * 24)
    with pytest.raises(InvalidCursor, match=r"issued by a \w+ store"):
        reader.query_records(query.model_copy(update={"cursor": foreign}))


BAD_POSITIONS: dict[cursor.StoreKind, list[str]] = {
    "sqlite": ["-1", "x", "1e3", " 1", "\u0661", "1" * 20, str(2**63)],
    "mongodb": ["x", "1", "0" * 23, "0" * 25, "g" * 24],
}


def test_a_position_the_store_cannot_have_issued_is_refused(reader: Store) -> None:
    """A well-formed cursor holding a position this store never issues is InvalidCursor."""
    mine: cursor.StoreKind = "mongodb" if isinstance(reader, MongoStore) else "sqlite"
    query = RecordQuery()
    for position in BAD_POSITIONS[mine]:
        with pytest.raises(InvalidCursor, match="no position this store issued"):
            reader.query_records(query.model_copy(update={"cursor": cursor.issue(query, mine, position)}))


def test_a_batch_through_the_pipeline_streams_in_arrival_order(reader: Store, registry: Registry) -> None:
    """The accepted events of one batch stream in the order they arrived; a repeated event keeps its first
    arrival's place."""
    keys = ["S-3", "S-1", "S-2", "S-1", "S-0"]
    batch = [_envelope(VALID_SHIPMENT.replace(b"SHIP-TRUE-003", key.encode())) for key in keys]
    outcomes = Pipeline(registry, reader).process(batch)
    first_seen = list(dict.fromkeys(o.record_id for o in outcomes))
    assert streamed(stream(reader, RecordQuery(contract="shipment", version=1, limit=2))) == first_seen
