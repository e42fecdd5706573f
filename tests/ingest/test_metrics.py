"""The pipeline's metrics: counted per batch, equal to the store's stats, with bounded labels."""

from collections.abc import Callable

import pytest

from metrics_support import ORDER_BAD_ITEM, UNREGISTERED, assert_metrics_match_stats, samples
from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core.envelope import Envelope
from sigma_aetl.errors import StoreError
from sigma_aetl.ingest.metric_labels import MAX_UNDECLARED, OTHER, PAYLOAD, Labels
from sigma_aetl.ingest.metrics import Metrics
from sigma_aetl.ingest.pipeline import Pipeline
from sigma_aetl.stores.sqlite.store import SqliteStore
from sigma_aetl.testing import (
    EXTRA_FIELD,
    HEAVY_SHIPMENT,
    INVALID_SHIPMENT,
    STRING_PRIORITY,
    TRUNCATED,
    VALID_SHIPMENT,
)

EnvelopeFactory = Callable[..., Envelope]


@pytest.fixture
def metrics(pipeline: Pipeline) -> Metrics:
    """Metrics fed by the test's pipeline."""
    found = Metrics("file")
    pipeline.observer = found.observer
    return found


def text(metrics: Metrics) -> str:
    """The metrics as Prometheus text."""
    return metrics.exposition().decode()


def refs(registry: Registry) -> set[str]:
    """Every registered ``name@version``."""
    return {contract.ref for contract in registry.all()}


def test_counters_match_stats_for_a_mixed_stream(
    pipeline: Pipeline, metrics: Metrics, make_envelope: EnvelopeFactory, registry: Registry
) -> None:
    """Valid, invalid of several root causes, duplicates, bare repeats, keyed retries, an identity
    conflict, an unknown version and an unknown contract: the events counters equal the store's stats."""
    conflict = VALID_SHIPMENT.replace(b"Dublin", b"Cork")
    batches = [
        [make_envelope(VALID_SHIPMENT), make_envelope(VALID_SHIPMENT), make_envelope(INVALID_SHIPMENT)],
        [make_envelope(INVALID_SHIPMENT), make_envelope(TRUNCATED), make_envelope(HEAVY_SHIPMENT)],
        [make_envelope(STRING_PRIORITY), make_envelope(EXTRA_FIELD), make_envelope(conflict)],
        [make_envelope(INVALID_SHIPMENT, idempotency_key="k-1") for _ in range(2)],
        [make_envelope(VALID_SHIPMENT, version="99"), make_envelope(VALID_SHIPMENT, contract="nosuch")],
        [make_envelope(ORDER_BAD_ITEM, contract="order")],
    ]
    for batch in batches:
        pipeline.process(batch)
    exposed = text(metrics)
    assert_metrics_match_stats(exposed, pipeline.store.stats().model_dump(), refs(registry))
    statuses = {dict(labels)["status"] for labels in samples(exposed, "sigma_aetl_events_total")}
    assert statuses == {"accepted", "failed", "repeat", "duplicate"}
    sources = {dict(labels)["source"] for labels in samples(exposed, "sigma_aetl_events_total")}
    assert sources == {"file"}


def test_failed_fields_are_declared_paths_or_other(
    pipeline: Pipeline, metrics: Metrics, make_envelope: EnvelopeFactory
) -> None:
    """A nested field's indices become ``[*]``, an undeclared field is ``other``, the whole payload is its
    own label, and each distinct field and error type counts once per failure."""
    pipeline.process([make_envelope(ORDER_BAD_ITEM, contract="order"), make_envelope(EXTRA_FIELD)])
    pipeline.process([make_envelope(TRUNCATED)])
    fields = {
        (dict(labels)["contract"], dict(labels)["field"], dict(labels)["error_type"]): value
        for labels, value in samples(text(metrics), "sigma_aetl_failed_fields_total").items()
    }
    assert fields[("order", "items[*].unit_price", "decimal_type")] == 1  # two items, one failure
    assert fields[("order", "items[*].sku", "string_pattern_mismatch")] == 1
    assert ("shipment", OTHER) in {(contract, field) for contract, field, _ in fields}
    assert ("shipment", PAYLOAD) in {(contract, field) for contract, field, _ in fields}


def test_labels_stay_bounded_under_a_flood_of_unknown_names(
    pipeline: Pipeline, metrics: Metrics, make_envelope: EnvelopeFactory
) -> None:
    """Thousands of distinct unknown fields, contracts and versions add no label value: the series are
    those of the registered contracts and the fixed ``other``/``_unregistered`` values."""
    flood = [
        make_envelope(VALID_SHIPMENT.replace(b'"priority": 2', f'"priority": 2, "f{n}": 1'.encode()))
        for n in range(2000)
    ]
    flood += [make_envelope(VALID_SHIPMENT, contract=f"c{n}") for n in range(1500)]
    flood += [make_envelope(VALID_SHIPMENT, version=str(100 + n)) for n in range(1500)]
    pipeline.process(flood)
    exposed = text(metrics)
    events = samples(exposed, "sigma_aetl_events_total")
    fields = samples(exposed, "sigma_aetl_failed_fields_total")
    assert {dict(labels)["contract"] for labels in events} == {"shipment", UNREGISTERED}
    assert {dict(labels)["version"] for labels in events} == {"1", UNREGISTERED}
    assert {dict(labels)["field"] for labels in fields} <= {OTHER, PAYLOAD, "priority"}
    assert len(events) + len(fields) < 20
    assert sum(events.values()) == len(flood)


def test_undeclared_paths_remembered_are_bounded(registry: Registry) -> None:
    """A flood of distinct undeclared paths is labelled ``other`` without being remembered past the
    bound."""
    labels = Labels(registry)
    for n in range(MAX_UNDECLARED * 3):
        assert labels.field("shipment@1", f"unknown_{n}") == OTHER
    assert labels.field("shipment@1", "weight_kg") == "weight_kg"
    assert len(labels._fields["shipment@1"]) <= MAX_UNDECLARED + 1


def test_two_metrics_never_share_a_series() -> None:
    """Each Metrics has its own registry: counting in one leaves the other at nothing."""
    first, second = Metrics("http"), Metrics("http")
    first.events.labels("shipment", "1", "accepted", "none", "http").inc()
    assert samples(first.exposition().decode(), "sigma_aetl_events_total")
    assert not samples(second.exposition().decode(), "sigma_aetl_events_total")


def test_latency_and_size_are_observed_per_batch(
    pipeline: Pipeline, metrics: Metrics, make_envelope: EnvelopeFactory
) -> None:
    """Each stored batch adds one decision time, one write time and its size in events."""
    pipeline.process([make_envelope(VALID_SHIPMENT), make_envelope(INVALID_SHIPMENT)])
    pipeline.process([make_envelope(HEAVY_SHIPMENT)])
    exposed = text(metrics)
    assert samples(exposed, "sigma_aetl_decision_duration_seconds_count") == {(): 2.0}
    assert samples(exposed, "sigma_aetl_store_write_duration_seconds_count") == {(): 2.0}
    assert samples(exposed, "sigma_aetl_store_write_events_sum") == {(): 3.0}


def test_a_failed_write_counts_no_event(
    registry: Registry, sqlite_store: SqliteStore, make_envelope: EnvelopeFactory
) -> None:
    """A write the store refuses is counted as a write error, and no event is counted as stored."""
    metrics = Metrics("file")
    pipeline = Pipeline(registry, sqlite_store, observer=metrics.observer)
    sqlite_store.close()
    with pytest.raises(StoreError):
        pipeline.process([make_envelope(VALID_SHIPMENT)])
    exposed = text(metrics)
    assert samples(exposed, "sigma_aetl_store_write_errors_total") == {(): 1.0}
    assert not samples(exposed, "sigma_aetl_events_total")
