"""Prometheus metrics of one gateway or worker, in a registry of its own (never the global default).

Every face builds one :class:`Metrics` (the HTTP app in ``create_app``, the worker in ``sigma-aetl
worker``) and serves :meth:`Metrics.exposition` on ``GET /metrics``; two apps in one process, or a test
beside another, never share a series. The pipeline reports to :attr:`Metrics.observer` once per batch
(``observer.py``), which counts the batch's outcomes in one pass and then increments each label set once.

``sigma_aetl_events_total{status}`` says what was stored, so that for a fresh store the counters equal
``GET /v1/stats`` exactly (per contract version and root cause):

- ``accepted``: a new accepted record (``accepted_by_contract``);
- ``failed``: a new failure record (``failures_by_contract``, ``failures_by_root_cause``);
- ``repeat``: a failure identified by its bytes arriving again: no new record, one more arrival
  (``failure_occurrences_*`` = ``failed`` + ``repeat``);
- ``duplicate``: an event already stored (a retry or a redelivery): nothing new, no new arrival.

An identity conflict is ``failed`` with root cause ``identity_conflict``; ``root_cause`` is ``none`` for
accepted events. Labels are bounded (``metric_labels.py``).

Later parts of the operator side (the advisory queue, the flood guard) add their own series with
:meth:`Metrics.register`: a ``prometheus_client`` collector whose ``collect()`` reads their state at
scrape time, so nothing here has to know them.
"""

from collections.abc import Callable, Sequence
from contextlib import suppress
from typing import Literal

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.registry import Collector

from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core.records import FailureRecord, StoredRecord
from sigma_aetl.ingest.histograms import Histogram
from sigma_aetl.ingest.metric_labels import Labels
from sigma_aetl.ingest.outcome import Outcome

Source = Literal["http", "kafka", "file"]
Status = Literal["accepted", "failed", "repeat", "duplicate"]
STATUSES: tuple[Status, ...] = ("accepted", "failed", "repeat", "duplicate")
NO_ROOT_CAUSE = "none"
"""The root-cause label of accepted events."""

SECONDS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
"""Latency buckets, in seconds: from a small batch on a fast disk to a store that is about to time out."""
SIZES = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000)
"""Transaction-size buckets, in events per store write."""
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
"""The Prometheus text format, version 0.0.4: every Prometheus 2 and 3 reads it (no name needs escaping)."""


class Metrics:
    """The metrics of one face, and the registry they are served from."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.registry = CollectorRegistry()
        registry = self.registry
        self.events = Counter(
            "sigma_aetl_events",
            "Events decided and stored: contract version as addressed, what was stored, root cause, source.",
            ("contract", "version", "status", "root_cause", "source"),
            registry=registry,
        )
        self.failed_fields = Counter(
            "sigma_aetl_failed_fields",
            "Errors of failure arrivals (failed and repeat events) by declared field (indices as [*]; other "
            "for an undeclared one) and error type; each distinct pair once per failure.",
            ("contract", "version", "field", "error_type"),
            registry=registry,
        )
        self.decision_seconds = Histogram(
            "sigma_aetl_decision_duration_seconds",
            "Seconds to decide one batch: route, validate and build its records (no storage).",
            SECONDS,
            registry,
        )
        self.write_seconds = Histogram(
            "sigma_aetl_store_write_duration_seconds",
            "Seconds from handing a batch's write to the store until it is durably stored.",
            SECONDS,
            registry,
        )
        self.write_events = Histogram(
            "sigma_aetl_store_write_events",
            "Events per store write (transaction size).",
            SIZES,
            registry,
        )
        self.write_errors = Counter(
            "sigma_aetl_store_write_errors",
            "Store writes that failed (nothing claimed as stored; the sender or the worker retries).",
            registry=registry,
        )
        self.observer = PipelineMetrics(self)
        self.consumer_lag: Gauge | None = None
        if source == "kafka":
            self.consumer_lag = Gauge(
                "sigma_aetl_kafka_consumer_lag",
                "Messages behind the partition's high watermark (high watermark minus the consumer's "
                "position), updated with every batch consumed from the partition.",
                ("topic", "partition"),
                registry=registry,
            )

    def watch_queue(self, depth: Callable[[], int]) -> None:
        """Serve ``sigma_aetl_group_commit_queue_depth`` from ``depth()``, read at each scrape."""
        gauge = Gauge(
            "sigma_aetl_group_commit_queue_depth",
            "Requests waiting for the group committer (queued, not yet in a group being written).",
            registry=self.registry,
        )
        gauge.set_function(lambda: float(depth()))

    def lag(self, topic: str, partition: int, messages: int) -> None:
        """Set a partition's consumer lag (the worker calls it per batch)."""
        if self.consumer_lag is not None:
            self.consumer_lag.labels(topic, str(partition)).set(max(messages, 0))

    def forget_partition(self, topic: str, partition: int) -> None:
        """Drop a partition's lag once it is revoked or lost: another member reports it now."""
        if self.consumer_lag is not None:
            with suppress(KeyError):  # never reported
                self.consumer_lag.remove(topic, str(partition))

    def register(self, collector: Collector) -> None:
        """Serve another collector's series from this registry too (the advisory queue, the flood guard)."""
        self.registry.register(collector)

    def exposition(self) -> bytes:
        """Every series in the Prometheus text format (:data:`CONTENT_TYPE`)."""
        return generate_latest(self.registry)


class PipelineMetrics:
    """The :class:`~sigma_aetl.ingest.observer.BatchObserver` that feeds :class:`Metrics`."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        self._labels: Labels | None = None
        # each label set's child, looked up once (``labels()`` costs five times an ``inc()``); bounded, as
        # the label values are
        self._events: dict[tuple[str, str, str, str], Counter] = {}
        self._fields: dict[tuple[str, str, str, str], Counter] = {}

    def decided(self, events: int, seconds: float) -> None:
        """Observe a batch's decision time."""
        self._metrics.decision_seconds.observe(seconds)

    def written(self, events: int, seconds: float) -> None:
        """Observe a batch's write time and size."""
        self._metrics.write_seconds.observe(seconds)
        self._metrics.write_events.observe(events)

    def write_failed(self, events: int) -> None:
        """Count a write that failed."""
        self._metrics.write_errors.inc()

    def stored(
        self, registry: Registry, records: Sequence[StoredRecord], outcomes: Sequence[Outcome]
    ) -> None:
        """Count a stored batch: each label set once, with the batch's tally of it."""
        labels = self._labels_of(registry)
        events: dict[tuple[str, str, str, str], int] = {}
        fields: dict[tuple[str, str, str, str], int] = {}
        for record, outcome in zip(records, outcomes, strict=True):
            contract, version = labels.contract(outcome.contract_ref)
            status = status_of(record, outcome)
            cause = NO_ROOT_CAUSE if outcome.root_cause is None else str(outcome.root_cause)
            labelled: tuple[str, str, str, str] = (contract, version, status, cause)
            events[labelled] = events.get(labelled, 0) + 1
            if status in ("failed", "repeat"):
                pairs = {(labels.field(outcome.contract_ref, e.path), e.type) for e in outcome.errors}
                for field, kind in pairs:
                    at = (contract, version, field, kind)
                    fields[at] = fields.get(at, 0) + 1
        for labelled, count in events.items():
            self._event_counter(labelled).inc(count)
        for at, count in fields.items():
            self._field_counter(at).inc(count)

    def _event_counter(self, key: tuple[str, str, str, str]) -> Counter:
        child = self._events.get(key)
        if child is None:
            child = self._events[key] = self._metrics.events.labels(*key, self._metrics.source)
        return child

    def _field_counter(self, key: tuple[str, str, str, str]) -> Counter:
        child = self._fields.get(key)
        if child is None:
            child = self._fields[key] = self._metrics.failed_fields.labels(*key)
        return child

    def _labels_of(self, registry: Registry) -> Labels:
        """The labels of ``registry``, built once per registry (a contract reload brings a new one)."""
        if self._labels is None or self._labels.registry is not registry:
            self._labels = Labels(registry)
        return self._labels


def status_of(record: StoredRecord, outcome: Outcome) -> Status:
    """What storing one event did (see the module docstring)."""
    if not outcome.duplicate:
        return "accepted" if outcome.status == "PASSED" else "failed"
    if isinstance(record, FailureRecord) and record.counts_arrivals:
        return "repeat"
    return "duplicate"
