"""Pages bounded in bytes as well as count, on every store: a budget cuts a page short, the continuation
misses and repeats nothing, and raw payloads over the inline limit are listed without their bytes."""

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from sigma_aetl.core import serial
from sigma_aetl.core.records import RawPayload
from sigma_aetl.stores import Store
from sigma_aetl.stores.base import FailureQuery, PageBudget, RecordQuery
from sigma_aetl.stores.mongo import MongoStore
from store_support import T0, accepted, failure

BIG = 40_000
BUDGET = PageBudget(max_bytes=100_000, max_inline_raw=50_000)


@pytest.fixture
def reader(store: Store) -> Store:
    """``store``, with MongoDB's settled horizon past everything written."""
    if isinstance(store, MongoStore):
        settle = store.settle
        store.clock = lambda: datetime.now(UTC) + settle + timedelta(seconds=2)
    return store


def _filled(store: Store, count: int, size: int) -> None:
    """``count`` failures and records, each with a raw payload of ``size`` bytes, one second apart."""
    failures, records = [], []
    for i in range(count):
        raw = RawPayload.of(bytes([65 + i % 26]) * size + str(i).encode())
        at = T0 + timedelta(seconds=i)
        failures.append(dataclasses.replace(failure(f"k{i}", at), raw=raw))
        records.append(dataclasses.replace(accepted(f"S{i}", at=at), raw=raw))
    store.write(records, failures)


def test_failure_pages_are_cut_by_bytes_and_continue_by_offset(reader: Store) -> None:
    """Twelve 40 KB failures under a 100 KB budget come two a page; next_offset reaches each exactly once."""
    _filled(reader, 12, BIG)
    seen: list[str] = []
    query = FailureQuery(limit=50)
    while True:
        page = reader.query_failures(query, BUDGET)
        assert 1 <= len(page.items) <= 2
        assert sum(len(serial.dumps(item)) for item in page.items) <= BUDGET.max_bytes  # type: ignore[operator]
        seen += [item.failure_id for item in page.items]
        if page.next_offset is None:
            break
        assert page.next_offset == query.offset + len(page.items)
        query = query.model_copy(update={"offset": page.next_offset})
    assert len(seen) == len(set(seen)) == 12


def test_record_pages_are_cut_by_bytes_and_continue_by_cursor(reader: Store) -> None:
    """Twelve 40 KB records under a 100 KB budget come two a page; next_cursor reaches each exactly once."""
    _filled(reader, 12, BIG)
    seen: list[str] = []
    query = RecordQuery(limit=50)
    while True:
        page = reader.query_records(query, BUDGET)
        assert 1 <= len(page.items) <= 2
        seen += [item.record_id for item in page.items]
        if page.next_cursor is None:
            break
        query = query.model_copy(update={"cursor": page.next_cursor})
    assert len(seen) == len(set(seen)) == 12


def test_a_page_holds_at_least_one_item_whatever_its_size(reader: Store) -> None:
    """An item larger than the whole budget still comes, alone, so paging always advances."""
    _filled(reader, 2, 30_000)
    tight = PageBudget(max_bytes=1000, max_inline_raw=1_000_000)
    page = reader.query_failures(FailureQuery(), tight)
    assert len(page.items) == 1
    assert page.next_offset == 1
    records = reader.query_records(RecordQuery(), tight)
    assert len(records.items) == 1
    assert records.next_cursor is not None


def test_raw_payloads_over_the_inline_limit_are_listed_without_their_bytes(reader: Store) -> None:
    """A raw payload over max_inline_raw is listed omitted (size and hash kept); read by id it is whole."""
    _filled(reader, 3, 60_000)
    page = reader.query_failures(FailureQuery(), BUDGET)
    assert len(page.items) == 3
    for item in page.items:
        assert item.raw.encoding == "omitted"
        assert item.raw.text == ""
        assert item.raw.size == 60_001
        whole = reader.get_failure(item.failure_id)
        assert whole is not None
        assert whole.raw.sha256 == item.raw.sha256
        assert len(whole.raw.to_bytes()) == 60_001
    records = reader.query_records(RecordQuery(), BUDGET).items
    assert [record.raw.encoding for record in records] == ["omitted"] * 3


def test_without_a_budget_pages_are_whole(reader: Store) -> None:
    """Called without a budget (the CLI, exports), a store pages by count alone and inlines every payload."""
    _filled(reader, 3, 60_000)
    page = reader.query_failures(FailureQuery())
    assert [item.raw.encoding for item in page.items] == ["utf-8"] * 3
    assert page.next_offset is None
    assert len(reader.query_records(RecordQuery()).items) == 3
