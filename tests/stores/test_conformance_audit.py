"""The store conformance suite, the audit's read: every store iterates the failures a filter selects, each
once, keyset-paged in batches, with their occurrences; and an audit over it reproduces every decision."""

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core.envelope import Envelope
from sigma_aetl.core.jsonparse import Limits
from sigma_aetl.core.records import FailureRecord
from sigma_aetl.core.taxonomy import RootCause
from sigma_aetl.ingest.audit import AuditScope, audit
from sigma_aetl.ingest.audit_checks import Judge
from sigma_aetl.ingest.pipeline import Pipeline
from sigma_aetl.stores import Store
from sigma_aetl.stores.base import FailureFilter
from sigma_aetl.stores.mongo import MongoStore
from sigma_aetl.testing import HEAVY_SHIPMENT, INVALID_SHIPMENT, VALID_SHIPMENT

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
FailureFactory = Callable[..., FailureRecord]
KEYS = ["k0", "k1", "k2", "k3", "k4", "ghost", "k6"]
"""The producer keys of the ``stored`` failures, in the order they are stored."""


@pytest.fixture
def stored(store: Store, make_failure: FailureFactory) -> list[FailureRecord]:
    """Seven failures over two contracts, an unrouted one among them, one day apart, stored in ``store``."""
    failures = [
        make_failure(f"k{n}", contract_ref=ref, received_at=T0 + timedelta(days=n))
        for n, ref in enumerate(["shipment@1", "parcel@1", "shipment@2", "shipment@1", "parcel@1"])
    ]
    failures.append(
        make_failure("ghost", contract_ref="ghost@1", routed=False, root_cause=RootCause.UNKNOWN_CONTRACT)
    )
    failures.append(make_failure("k6", root_cause=RootCause.TYPE_MISMATCH, paths=("weight_kg",)))
    store.write([], failures)
    return failures


def ids(store: Store, which: FailureFilter, batch_size: int = 2) -> list[str]:
    """The failure ids the iteration yields, in order, checking no batch is over ``batch_size``."""
    found: list[str] = []
    for batch in store.iter_failures(which, batch_size=batch_size):
        assert 1 <= len(batch) <= batch_size
        found.extend(failure.failure_id for failure in batch)
    return found


def test_every_failure_once_in_small_batches(store: Store, stored: list[FailureRecord]) -> None:
    """Without a filter, every stored failure comes exactly once, in batches of at most the batch size."""
    found = ids(store, FailureFilter())
    assert sorted(found) == sorted(failure.failure_id for failure in stored)


def test_the_order_is_stable(store: Store, stored: list[FailureRecord]) -> None:
    """Two iterations with different batch sizes yield the same failures in the same order."""
    assert ids(store, FailureFilter(), batch_size=1) == ids(store, FailureFilter(), batch_size=500)


@pytest.mark.parametrize(
    ("which", "keys"),
    [
        (FailureFilter(contract="shipment"), {"k0", "k2", "k3", "k6"}),
        (FailureFilter(contract="shipment", version=1), {"k0", "k3", "k6"}),
        (FailureFilter(root_cause=RootCause.UNKNOWN_CONTRACT), {"ghost"}),
        (FailureFilter(field="weight_kg"), {"k6"}),
        (FailureFilter(since=T0 + timedelta(days=1), until=T0 + timedelta(days=4)), {"k1", "k2", "k3"}),
    ],
)
def test_the_filters_select(
    store: Store, stored: list[FailureRecord], which: FailureFilter, keys: set[str]
) -> None:
    """Each filter selects the failures a failure query with it would, and only those."""
    by_key = {failure.failure_id: key for failure, key in zip(stored, KEYS, strict=True)}
    assert {by_key[found] for found in ids(store, which)} == keys


def test_failures_come_whole_with_their_occurrences(store: Store, make_failure: FailureFactory) -> None:
    """A failure read by the iteration equals the one stored, and carries the arrivals counted since."""
    failure = make_failure("flood", identified_by="raw", raw=b"{")
    store.write([], [failure])
    store.write([], [replace(failure, received_at=T0 + timedelta(hours=1))])
    (batch,) = store.iter_failures(FailureFilter())
    assert batch == [failure]
    assert batch[0].occurrences is not None
    assert batch[0].occurrences.count == 2


def test_an_empty_store_yields_nothing(store: Store) -> None:
    """An iteration over a store without failures yields no batch at all."""
    assert list(store.iter_failures(FailureFilter(contract="shipment"))) == []


def test_the_audit_reproduces_what_the_pipeline_stored(store: Store, registry: Registry) -> None:
    """Events of every outcome stored through the pipeline in either store are all reproduced by the audit."""
    if isinstance(store, MongoStore):  # the records stream shows only settled records: settle them all
        settle = store.settle
        store.clock = lambda: datetime.now(UTC) + settle + timedelta(seconds=2)
    pipeline = Pipeline(registry, store)
    raws = [VALID_SHIPMENT, INVALID_SHIPMENT, HEAVY_SHIPMENT, b"{", VALID_SHIPMENT.replace(b"15.2", b"16.2")]
    for raw in raws:
        pipeline.process([Envelope(raw, "shipment", "1", T0, {"kind": "test"})])
    pipeline.process([Envelope(VALID_SHIPMENT, "ghost", "1", T0, {"kind": "test"})])
    report = audit(store, Judge(registry, store, Limits(), 1000), AuditScope(), batch_size=2)
    assert (report.checked, report.records, report.failures) == (6, 1, 5)
    assert report.findings == []
