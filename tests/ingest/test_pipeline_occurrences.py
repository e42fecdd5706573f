"""The pipeline counts a failure's arrivals: every copy of bare bytes, once for a keyed or transport one."""

from collections.abc import Callable

from sigma_aetl.core.envelope import Envelope
from sigma_aetl.ingest.outcome import Outcome
from sigma_aetl.ingest.pipeline import Pipeline
from sigma_aetl.testing import INVALID_SHIPMENT, VALID_SHIPMENT

EnvelopeFactory = Callable[..., Envelope]
CORK = VALID_SHIPMENT.replace(b"Dublin", b"Cork")  # same shipment_id, other content


def arrivals(pipeline: Pipeline, outcome: Outcome) -> int:
    """How many arrivals the store counts for the failure behind ``outcome``."""
    assert outcome.failure_id is not None
    stored = pipeline.store.get_failure(outcome.failure_id)
    assert stored is not None
    assert stored.occurrences is not None
    return stored.occurrences.count


def test_bare_resends_count_each_arrival(pipeline: Pipeline, make_envelope: EnvelopeFactory) -> None:
    """An invalid event sent three times without a key is one failure record with three arrivals; the
    resends are still reported as duplicates (no new record)."""
    outcomes = [pipeline.process([make_envelope(INVALID_SHIPMENT)])[0] for _ in range(3)]
    assert [o.duplicate for o in outcomes] == [False, True, True]
    assert arrivals(pipeline, outcomes[0]) == 3
    stats = pipeline.store.stats()
    assert (stats.failures_total, stats.failure_occurrences_total) == (1, 3)


def test_copies_in_one_batch_count_each(pipeline: Pipeline, make_envelope: EnvelopeFactory) -> None:
    """Two identical bare events in one batch are two arrivals of one failure; the second is a duplicate."""
    first, second = pipeline.process([make_envelope(INVALID_SHIPMENT), make_envelope(INVALID_SHIPMENT)])
    assert (first.duplicate, second.duplicate) == (False, True)
    assert arrivals(pipeline, first) == 2


def test_keyed_and_transport_retries_count_once(pipeline: Pipeline, make_envelope: EnvelopeFactory) -> None:
    """A retry with the same Idempotency-Key, or a redelivery at the same coordinates, counts nothing,
    within a batch and across batches."""
    keyed = make_envelope(INVALID_SHIPMENT, idempotency_key="evt-1")
    kafka = make_envelope(INVALID_SHIPMENT, transport_identity=("kafka", "events", "2", "41"))
    first = pipeline.process([keyed, kafka, keyed, kafka])
    again = pipeline.process([kafka, keyed])
    assert [o.duplicate for o in first + again] == [False, False, True, True, True, True]
    assert [arrivals(pipeline, o) for o in first[:2]] == [1, 1]
    assert pipeline.store.stats().failure_occurrences_total == 2


def test_identity_conflicts_count_like_any_failure(
    pipeline: Pipeline, make_envelope: EnvelopeFactory
) -> None:
    """A conflicting event resent without a key counts each arrival; with a key, once."""
    pipeline.process([make_envelope(VALID_SHIPMENT)])
    bare = [pipeline.process([make_envelope(CORK)])[0] for _ in range(2)]
    keyed = [pipeline.process([make_envelope(CORK, idempotency_key="k")])[0] for _ in range(2)]
    assert [o.root_cause for o in bare + keyed] == [bare[0].root_cause] * 4
    assert (arrivals(pipeline, bare[0]), arrivals(pipeline, keyed[0])) == (2, 1)
