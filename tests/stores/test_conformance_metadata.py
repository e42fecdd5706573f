"""A request's headers stored once on every store, and read back whole wherever a record shows them."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sigma_aetl.core.records import AcceptedRecord, FailureRecord
from sigma_aetl.stores import Store
from sigma_aetl.stores.base import FailureQuery, RecordQuery
from sigma_aetl.stores.mongo import MongoStore

AGENT = "agent/" + "x" * 50_000
ONE = {"user-agent": "one/" + "1" * 600}
TWO = {"user-agent": "two/" + "2" * 600}
T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
FailureFactory = Callable[..., FailureRecord]
RecordFactory = Callable[..., AcceptedRecord]


def _http(index: int, headers: dict[str, Any]) -> dict[str, Any]:
    """The source of event ``index`` of one HTTP request (every event shares the request's headers)."""
    return {
        "kind": "http",
        "request_id": "r1",
        "method": "POST",
        "path": "/v1/ingest/shipment/1",
        "headers": headers,
        "index": index,
    }


@pytest.fixture
def reader(store: Store) -> Store:
    """``store``, with MongoDB's settled horizon past everything written."""
    if isinstance(store, MongoStore):
        settle = store.settle
        store.clock = lambda: datetime.now(UTC) + settle + timedelta(seconds=2)
    return store


def test_a_batch_shares_its_headers_and_reads_them_back_whole(
    reader: Store, make_failure: FailureFactory, make_record: RecordFactory
) -> None:
    """Failures and records of one request read back exactly as written, each with the request's headers."""
    headers = {"user-agent": AGENT, "content-type": "application/x-ndjson"}
    failures = [make_failure(f"k{i}", source=_http(i, headers)) for i in range(20)]
    records = [make_record(f"S{i}", source=_http(20 + i, headers)) for i in range(5)]
    reader.write(records, failures)
    for failure in failures:
        assert reader.get_failure(failure.failure_id) == failure
        stored = reader.get_failure(failure.failure_id)
        assert stored is not None
        assert stored.source == failure.source
    listed = reader.query_failures(FailureQuery(limit=100)).items
    assert sorted(item.source["index"] for item in listed) == list(range(20))
    assert all(item.source["headers"] == headers for item in listed)
    assert [r.source for r in reader.query_records(RecordQuery()).items] == [r.source for r in records]
    assert reader.get_record(records[0].record_id) == records[0]


def test_a_retried_write_stores_nothing_new(
    reader: Store, make_failure: FailureFactory, make_record: RecordFactory
) -> None:
    """Writing the same request again reports everything as existing and reads back the same."""
    headers = {"user-agent": AGENT}
    failures = [make_failure(f"k{i}", source=_http(i, headers)) for i in range(3)]
    reader.write([make_record(source=_http(3, headers))], failures)
    again = reader.write([make_record(source=_http(3, headers))], failures)
    assert not again.new_failures
    assert not again.new_records
    assert reader.get_failure(failures[1].failure_id) == failures[1]


def test_two_requests_keep_their_own_headers(reader: Store, make_failure: FailureFactory) -> None:
    """Requests with different headers each read back their own; equal headers are shared, not mixed."""
    first = make_failure("a", source=_http(0, ONE))
    second = make_failure("b", source=_http(0, TWO))
    third = make_failure("c", source=_http(0, ONE))
    reader.write([], [first, second])
    reader.write([], [third])
    for failure in (first, second, third):
        stored = reader.get_failure(failure.failure_id)
        assert stored is not None
        assert stored.source["headers"] == failure.source["headers"]


def test_the_arrivals_of_a_repeated_failure_show_their_headers(
    reader: Store, make_failure: FailureFactory
) -> None:
    """A failure identified by its bytes that arrives in two requests lists both arrivals with headers."""
    one = make_failure(identified_by="raw", source=_http(0, ONE))
    two = make_failure(identified_by="raw", received_at=T0 + timedelta(seconds=1), source=_http(0, TWO))
    reader.write([], [one])
    reader.write([], [two])
    stored = reader.get_failure(one.failure_id)
    assert stored is not None
    assert stored.occurrences is not None
    assert [a.source["headers"] for a in stored.occurrences.latest] == [
        ONE,
        TWO,
    ]


def test_other_sources_are_stored_as_they_are(reader: Store, make_failure: FailureFactory) -> None:
    """Only HTTP sources are split: a Kafka source's headers stay inline and read back unchanged."""
    kafka = {"kind": "kafka", "topic": "events", "headers": {"headers_sha256": "forged"}}
    failure = make_failure(source=kafka, identified_by="transport")
    reader.write([], [failure])
    assert reader.get_failure(failure.failure_id) == failure
