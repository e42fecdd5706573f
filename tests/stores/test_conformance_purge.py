"""The store conformance suite, purges: every store counts and deletes the same failures, in batches."""

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sigma_aetl.core.records import FailureRecord
from sigma_aetl.core.taxonomy import RootCause
from sigma_aetl.errors import StoreError
from sigma_aetl.stores import Store, open_store
from sigma_aetl.stores.base import FailurePurge, FailureQuery, PurgeReport

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
FailureFactory = Callable[..., FailureRecord]


def day(n: float) -> datetime:
    """T0 shifted by a number of days."""
    return T0 + timedelta(days=n)


@pytest.fixture
def spread(store: Store, make_failure: FailureFactory) -> list[FailureRecord]:
    """Failures over contracts, versions, causes, fields and days, stored in ``store``; ``flood`` (raw,
    first received on day 0) arrived again on day 40."""
    cause = RootCause
    failures = [
        make_failure("a", received_at=day(0), root_cause=cause.MISSING_FIELD, paths=("priority",)),
        make_failure(
            "b", received_at=day(1), root_cause=cause.TYPE_MISMATCH, paths=("weight_kg", "priority")
        ),
        make_failure("c", contract_ref="shipment@2", received_at=day(2), paths=("weight_kg",)),
        make_failure("d", contract_ref="parcel@1", received_at=day(3), root_cause=cause.CONSTRAINT_VIOLATION),
        make_failure(
            "e", contract_ref="ghost@1", routed=False, received_at=day(4), root_cause=cause.UNKNOWN_CONTRACT
        ),
        make_failure("f", received_at=day(45), root_cause=cause.MISSING_FIELD, paths=("destination",)),
        make_failure(
            "flood", received_at=day(0), identified_by="raw", raw=b"{", root_cause=cause.MALFORMED_JSON
        ),
    ]
    store.write([], failures)
    store.write([], [replace(failures[-1], received_at=day(40), source={"kind": "http", "n": 2})])
    return failures


def expected(failures: list[FailureRecord], which: FailurePurge) -> dict[str, int]:
    """Per root cause, the failures ``which`` selects (the flood was last seen on day 40)."""
    counts: dict[str, int] = {}
    for f in failures:
        last_seen = day(40) if f.failure_id == failures[-1].failure_id else f.received_at
        if (
            (which.contract is None or f.contract == which.contract)
            and (which.version is None or f.version == which.version)
            and (which.root_cause is None or f.root_cause == which.root_cause)
            and (which.field is None or which.field in f.fields)
            and (which.since is None or f.received_at >= which.since)
            and (which.until is None or f.received_at < which.until)
            and (which.last_seen_before is None or last_seen < which.last_seen_before)
        ):
            counts[f.root_cause.value] = counts.get(f.root_cause.value, 0) + 1
    return dict(sorted(counts.items()))


PURGES: dict[str, dict[str, Any]] = {
    "older than, by last arrival": {"last_seen_before": day(30)},
    "older than, the flood too": {"last_seen_before": day(41)},
    "contract": {"contract": "shipment"},
    "version": {"version": 2},
    "root cause": {"root_cause": RootCause.MISSING_FIELD},
    "routing root cause": {"root_cause": RootCause.UNKNOWN_CONTRACT},
    "field": {"field": "priority"},
    "received window": {"since": day(1), "until": day(3)},
    "contract, version and age": {"contract": "shipment", "version": 1, "last_seen_before": day(30)},
    "matching nothing": {"contract": "parcel", "version": 2},
}


@pytest.mark.parametrize("filters", PURGES.values(), ids=PURGES.keys())
def test_dry_run_counts_what_a_purge_deletes(
    store: Store, spread: list[FailureRecord], filters: dict[str, Any]
) -> None:
    """A dry run counts, per root cause, exactly what the purge then deletes, and deletes nothing itself."""
    which = FailurePurge(**filters)
    want = expected(spread, which)
    before = store.stats()
    assert store.count_failures(which) == PurgeReport(deleted=sum(want.values()), by_root_cause=want)
    assert store.stats() == before
    assert store.purge_failures(which, batch_size=2) == PurgeReport(
        deleted=sum(want.values()), by_root_cause=want
    )
    assert store.stats().failures_total == len(spread) - sum(want.values())
    assert store.count_failures(which) == PurgeReport(deleted=0, by_root_cause={})


def test_purge_cases_are_not_vacuous(spread: list[FailureRecord]) -> None:
    """Every purge case but the empty one selects some failures and keeps others."""
    for name, filters in PURGES.items():
        selected = sum(expected(spread, FailurePurge(**filters)).values())
        assert (selected == 0) == (name == "matching nothing"), name
        assert selected < len(spread), name


def test_purge_keeps_what_it_does_not_select(store: Store, spread: list[FailureRecord]) -> None:
    """After a purge, the failures it did not select read back whole, occurrences included."""
    store.purge_failures(FailurePurge(last_seen_before=day(30)), batch_size=1)
    kept = {f.failure_id for f in store.query_failures(FailureQuery()).items}
    assert kept == {spread[5].failure_id, spread[6].failure_id}
    flood = store.get_failure(spread[6].failure_id)
    assert flood == spread[6]
    assert flood is not None
    assert flood.occurrences is not None
    assert flood.occurrences.count == 2


def test_purge_removes_field_index_and_occurrences(
    store: Store, spread: list[FailureRecord], make_failure: FailureFactory
) -> None:
    """A purged failure is gone from id lookups, field queries and stats; its bytes arriving again start a
    new record, counted from one."""
    store.purge_failures(FailurePurge(root_cause=RootCause.MALFORMED_JSON))
    store.purge_failures(FailurePurge(field="priority"))
    assert store.get_failure(spread[6].failure_id) is None
    assert store.query_failures(FailureQuery(field="priority")).total == 0
    assert store.query_failures(FailureQuery(field="weight_kg")).total == 1
    stats = store.stats()
    assert (stats.failures_total, stats.failure_occurrences_total) == (2, 2)  # c and f: no priority
    again = replace(spread[6], received_at=day(50))
    assert store.write([], [again]).new_failures == {again.failure_id}
    stored = store.get_failure(again.failure_id)
    assert stored is not None
    assert stored.occurrences is not None
    assert (stored.occurrences.count, stored.occurrences.first_seen) == (1, day(50))


def test_purge_in_batches_deletes_them_all(store: Store, make_failure: FailureFactory) -> None:
    """A purge larger than its batch size deletes every match over several batches, in several collections."""
    refs = ["shipment@1", "parcel@1", "ghost@1"]
    many = [make_failure(f"m{n}", contract_ref=refs[n % 3], routed=n % 3 != 2) for n in range(25)]
    store.write([], many)
    assert store.purge_failures(FailurePurge(last_seen_before=day(1)), batch_size=4).deleted == 25
    assert store.stats().failures_total == 0


def test_purge_of_an_empty_store_deletes_nothing(store: Store) -> None:
    """Purging an empty store reports nothing deleted."""
    assert store.purge_failures(FailurePurge()) == PurgeReport(deleted=0, by_root_cause={})


def test_a_read_only_store_counts_but_refuses_to_purge(
    store: Store, store_url: str, spread: list[FailureRecord]
) -> None:
    """A store opened read-only answers the dry run and refuses the purge, deleting nothing."""
    reader = open_store(store_url, read_only=True)
    try:
        assert reader.count_failures(FailurePurge()).deleted == len(spread)
        with pytest.raises(StoreError, match="read-only"):
            reader.purge_failures(FailurePurge())
    finally:
        reader.close()
    assert store.stats().failures_total == len(spread)
