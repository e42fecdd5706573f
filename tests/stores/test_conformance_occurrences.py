"""The store conformance suite, occurrences: every store counts a failure's arrivals the same way.

A failure identified by its bytes counts each write of it as a new arrival (two in one write are two); one
identified by a key or transport coordinates is the same arrival however often it is written.
"""

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core.envelope import Envelope
from sigma_aetl.core.records import MAX_LATEST, Arrival, FailureRecord, Occurrences
from sigma_aetl.core.taxonomy import RootCause
from sigma_aetl.ingest.pipeline import Pipeline
from sigma_aetl.stores import Store, open_store
from sigma_aetl.stores.base import FailureQuery
from sigma_aetl.testing import INVALID_SHIPMENT

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
FailureFactory = Callable[..., FailureRecord]


def at(seconds: float) -> datetime:
    """T0 shifted by a number of seconds."""
    return T0 + timedelta(seconds=seconds)


def occurrences(store: Store, failure: FailureRecord) -> Occurrences:
    """The stored failure's occurrences, as the store reads them back."""
    stored = store.get_failure(failure.failure_id)
    assert stored is not None
    assert stored.occurrences is not None
    return stored.occurrences


def arrival(failure: FailureRecord) -> Arrival:
    """The arrival a failure record describes."""
    return Arrival(received_at=failure.received_at, source=failure.source)


def copy(failure: FailureRecord, seconds: float, **source: Any) -> FailureRecord:
    """The same failure (same bytes, same id) arriving again ``seconds`` after T0, with other metadata."""
    return replace(failure, received_at=at(seconds), source={"kind": "http", **source})


# -- what counts ----------------------------------------------------------------------------------------


def test_a_failure_written_once_is_seen_once(store: Store, make_failure: FailureFactory) -> None:
    """A failure stored once reads back seen once: first and last seen are its receipt, latest its arrival."""
    failure = make_failure("k1", identified_by="raw")
    store.write([], [failure])
    assert occurrences(store, failure) == Occurrences(
        count=1, first_seen=T0, last_seen=T0, latest=(arrival(failure),)
    )


def test_raw_failure_counts_each_write(store: Store, make_failure: FailureFactory) -> None:
    """The same bytes written again without a key count a new arrival; the record stays as first written."""
    first = make_failure(identified_by="raw", source={"kind": "http", "request_id": "r1"})
    again = copy(first, 60, request_id="r2", client="10.0.0.9")
    store.write([], [first])
    report = store.write([], [again])
    assert report.existing_failures == {first.failure_id}
    assert report.counted_arrivals == {first.failure_id: 1}
    stored = store.get_failure(first.failure_id)
    assert stored == first  # the decision, received_at and source of the first arrival, unchanged
    assert stored is not None
    assert (stored.received_at, stored.source) == (first.received_at, first.source)
    assert stored.occurrences == Occurrences(
        count=2, first_seen=T0, last_seen=at(60), latest=(arrival(first), arrival(again))
    )


def test_two_identical_raw_failures_in_one_write_count_two(
    store: Store, make_failure: FailureFactory
) -> None:
    """Two copies of raw bytes in the same write are two arrivals of one failure record."""
    first = make_failure(identified_by="raw", source={"kind": "http", "index": 0})
    second = copy(first, 0, index=1)
    report = store.write([], [first, second])
    assert report.new_failures == {first.failure_id}
    assert report.counted_arrivals == {first.failure_id: 2}
    assert occurrences(store, first).count == 2
    assert occurrences(store, first).latest == (arrival(first), arrival(second))
    assert store.stats().failures_total == 1


@pytest.mark.parametrize("identified_by", ["key", "transport"])
def test_keyed_or_transport_failure_written_again_counts_nothing(
    store: Store, make_failure: FailureFactory, identified_by: str
) -> None:
    """A retry with the same key, or a redelivery at the same coordinates, is the same arrival: counted once,
    in separate writes and within one."""
    first = make_failure("k1", identified_by=identified_by)
    later = copy(first, 60, request_id="retry")
    store.write([], [first, first])
    report = store.write([], [later])
    assert report.counted_arrivals == {}
    assert occurrences(store, first) == Occurrences(
        count=1, first_seen=T0, last_seen=T0, latest=(arrival(first),)
    )
    assert store.stats().failure_occurrences_total == 1


def test_latest_arrivals_are_bounded(store: Store, make_failure: FailureFactory) -> None:
    """Only the latest arrivals are kept, oldest first, across writes and within one; the count is whole."""
    first = make_failure(identified_by="raw", source={"kind": "http", "n": 0})
    copies = [copy(first, n, n=n) for n in range(1, 14)]
    store.write([], [first])
    store.write([], copies[:3])
    for one in copies[3:8]:
        store.write([], [one])
    store.write([], copies[8:])
    seen = occurrences(store, first)
    assert seen.count == 14
    assert (seen.first_seen, seen.last_seen) == (T0, at(13))
    assert len(seen.latest) == MAX_LATEST
    assert [a.source["n"] for a in seen.latest] == list(range(4, 14))


def test_first_and_last_seen_are_the_extremes(store: Store, make_failure: FailureFactory) -> None:
    """An arrival stamped earlier than the stored one moves first_seen back; last_seen keeps the latest."""
    first = make_failure(identified_by="raw", received_at=at(100))
    store.write([], [first])
    store.write([], [copy(first, 50), copy(first, 300)])
    store.write([], [copy(first, 200)])
    seen = occurrences(store, first)
    assert (seen.count, seen.first_seen, seen.last_seen) == (4, at(50), at(300))
    assert store.get_failure(first.failure_id) == first


def test_latest_arrivals_keep_their_metadata_exactly(store: Store, make_failure: FailureFactory) -> None:
    """Arrivals' metadata with huge integers, unicode and microseconds reads back exactly."""
    first = make_failure(identified_by="raw", source={"kind": "http", "big": 2**80, "city": "Dún Laoghaire"})
    again = replace(
        first, received_at=T0 + timedelta(microseconds=999_999), source={"kind": "x", "n": -(2**70)}
    )
    store.write([], [first])
    store.write([], [again])
    store.write([], [replace(again, source={"kind": "y", "text": "東京 🚚"})])
    latest = occurrences(store, first).latest
    assert [a.source for a in latest] == [first.source, again.source, {"kind": "y", "text": "東京 🚚"}]
    assert latest[1].received_at.microsecond == 999_999


def test_raw_failure_counts_in_the_collection_that_holds_it(
    store: Store, make_failure: FailureFactory
) -> None:
    """Bytes stored as an unknown version, then routed once that version exists, count on the one record."""
    unrouted = make_failure(
        contract_ref="shipment@2", routed=False, root_cause=RootCause.UNKNOWN_VERSION, identified_by="raw"
    )
    routed = make_failure(
        contract_ref="shipment@2", root_cause=RootCause.TYPE_MISMATCH, identified_by="raw", received_at=at(5)
    )
    assert unrouted.failure_id == routed.failure_id
    store.write([], [unrouted])
    store.write([], [routed])
    assert store.get_failure(routed.failure_id) == unrouted
    assert occurrences(store, routed).count == 2
    assert store.stats().failure_occurrences_by_root_cause == {"unknown_version": 2}


def test_failure_stored_before_counting_counts_its_first_arrival(
    store: Store, make_failure: FailureFactory
) -> None:
    """A failure stored without an identity kind (before occurrences existed) counts from its own arrival."""
    raw = make_failure(identified_by="raw", source={"kind": "http", "n": 2}, received_at=at(10))
    legacy = replace(raw, identified_by=None, received_at=T0, source={"kind": "http", "n": 1})
    store.write([], [legacy])
    store.write([], [raw])
    seen = occurrences(store, legacy)
    assert (seen.count, seen.first_seen, seen.last_seen) == (2, T0, at(10))
    assert [a.source["n"] for a in seen.latest] == [1, 2]
    assert store.stats().failure_occurrences_total == 2


def test_query_items_carry_their_occurrences(store: Store, make_failure: FailureFactory) -> None:
    """Listed failures carry the same occurrences as the failure read by id."""
    raw = make_failure(identified_by="raw")
    keyed = make_failure("k2", received_at=at(1))
    store.write([], [raw, copy(raw, 2), keyed])
    items = store.query_failures(FailureQuery()).items
    assert [f.failure_id for f in items] == [keyed.failure_id, raw.failure_id]
    assert [f.occurrences for f in items] == [occurrences(store, keyed), occurrences(store, raw)]
    assert [f.occurrences.count for f in items if f.occurrences] == [1, 2]


def test_stats_count_records_and_arrivals(store: Store, make_failure: FailureFactory) -> None:
    """Stats count distinct failure records and, beside them, their arrivals, per contract and root cause."""
    flood = make_failure(identified_by="raw", root_cause=RootCause.MALFORMED_JSON)
    other = make_failure(contract_ref="parcel@1", identified_by="raw", raw=b"{")
    keyed = make_failure("k1")
    store.write([], [flood, copy(flood, 1), copy(flood, 2), other, keyed, keyed])
    store.write([], [copy(flood, 3), copy(other, 3)])
    stats = store.stats()
    assert (stats.failures_total, stats.failure_occurrences_total) == (3, 7)
    assert stats.failures_by_contract == {"parcel@1": 1, "shipment@1": 2}
    assert stats.failure_occurrences_by_contract == {"parcel@1": 2, "shipment@1": 5}
    assert stats.failures_by_root_cause == {"malformed_json": 1, "missing_field": 2}
    assert stats.failure_occurrences_by_root_cause == {"malformed_json": 4, "missing_field": 3}


def test_concurrent_writers_lose_no_arrival(
    store: Store, store_url: str, make_failure: FailureFactory
) -> None:
    """Several stores on one database writing the same new raw failure at once count every arrival."""
    failure = make_failure(identified_by="raw")
    writers = [open_store(store_url) for _ in range(4)]
    start = threading.Barrier(len(writers))

    def write(writer: Store) -> None:
        start.wait()
        for n in range(5):
            writer.write([], [copy(failure, n)])

    threads = [threading.Thread(target=write, args=(writer,)) for writer in writers]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for writer in writers:
            writer.close()
    assert occurrences(store, failure).count == 20
    assert store.stats().failures_total == 1


# -- through the pipeline -----------------------------------------------------------------------------


def _envelope(raw: bytes, seconds: float = 0, **extra: Any) -> Envelope:
    extra.setdefault("source", {"kind": "test"})
    return Envelope(raw=raw, contract="shipment", version="1", received_at=at(seconds), **extra)


def test_pipeline_counts_bare_resends_but_not_keyed_retries_or_redeliveries(
    store: Store, registry: Registry
) -> None:
    """Through the pipeline: bytes resent without a key count again; a keyed retry, a Kafka redelivery and a
    re-read file line do not; two identical bare events in one batch count two."""
    pipeline = Pipeline(registry, store)
    bare = _envelope(INVALID_SHIPMENT)
    keyed = _envelope(INVALID_SHIPMENT, idempotency_key="evt-1")
    kafka = _envelope(INVALID_SHIPMENT, transport_identity=("kafka", "events", "0", "7"))
    line = _envelope(INVALID_SHIPMENT, transport_identity=("file", "/data/events.jsonl", "3"))
    first = pipeline.process([bare, bare, keyed, kafka, line])
    again = pipeline.process([replace(bare, received_at=at(9)), keyed, kafka, line])
    assert [o.duplicate for o in first] == [False, True, False, False, False]
    assert [o.duplicate for o in again] == [True, True, True, True]
    counts: dict[str | None, int] = {}
    for outcome in first[1:]:
        assert outcome.failure_id is not None
        stored = store.get_failure(outcome.failure_id)
        assert stored is not None
        assert stored.occurrences is not None
        counts[stored.identified_by] = stored.occurrences.count
    assert counts == {"raw": 3, "key": 1, "transport": 1}
    stats = store.stats()
    assert (stats.failures_total, stats.failure_occurrences_total) == (4, 6)
