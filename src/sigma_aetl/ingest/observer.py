"""What the pipeline tells an observer about each batch: the interface metrics are collected behind.

The pipeline (``pipeline.py``) is where every face passes — HTTP, Kafka, files — so it is instrumented
once, here, and never per event: after deciding a batch it calls :meth:`BatchObserver.decided`, after its
write lands :meth:`BatchObserver.written` (or :meth:`BatchObserver.write_failed`), and once every event's
outcome is known :meth:`BatchObserver.stored` with the batch's records and outcomes, which the observer
counts in one pass.
The Prometheus implementation is :class:`sigma_aetl.ingest.metrics.PipelineMetrics`; with no observer
(metrics off) the pipeline does none of this.
"""

from collections.abc import Sequence
from typing import Protocol

from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core.records import StoredRecord
from sigma_aetl.ingest.outcome import Outcome


class BatchObserver(Protocol):
    """Told about each batch the pipeline decides and stores; must be cheap and must not raise."""

    def decided(self, events: int, seconds: float) -> None:
        """A batch of ``events`` was routed, validated and turned into records in ``seconds``."""
        ...

    def written(self, events: int, seconds: float) -> None:
        """The store write of a batch of ``events`` landed ``seconds`` after it was handed to the store."""
        ...

    def write_failed(self, events: int) -> None:
        """The store write of a batch of ``events`` failed (it raised StoreError); nothing is claimed."""
        ...

    def stored(
        self, registry: Registry, records: Sequence[StoredRecord], outcomes: Sequence[Outcome]
    ) -> None:
        """A batch is durably stored: each event's record (``records[i]`` is ``outcomes[i]``'s), judged by
        contracts of ``registry``."""
        ...


class Observers:
    """Several observers told about each batch in turn (the metrics, then the flood guard)."""

    def __init__(self, observers: Sequence[BatchObserver]) -> None:
        self.observers = tuple(observers)

    def decided(self, events: int, seconds: float) -> None:
        """Tell each observer."""
        for observer in self.observers:
            observer.decided(events, seconds)

    def written(self, events: int, seconds: float) -> None:
        """Tell each observer."""
        for observer in self.observers:
            observer.written(events, seconds)

    def write_failed(self, events: int) -> None:
        """Tell each observer."""
        for observer in self.observers:
            observer.write_failed(events)

    def stored(
        self, registry: Registry, records: Sequence[StoredRecord], outcomes: Sequence[Outcome]
    ) -> None:
        """Tell each observer."""
        for observer in self.observers:
            observer.stored(registry, records, outcomes)


def combined(*observers: BatchObserver | None) -> BatchObserver | None:
    """One observer telling every given one (None: none given; one: itself)."""
    present = [observer for observer in observers if observer is not None]
    if len(present) <= 1:
        return present[0] if present else None
    return Observers(present)
