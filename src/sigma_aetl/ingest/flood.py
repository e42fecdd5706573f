"""The flood guard of one face: fed by the pipeline once a batch is stored, it raises alerts.

:class:`FloodMonitor` is a :class:`~sigma_aetl.ingest.observer.BatchObserver` (beside the metrics, see
:func:`~sigma_aetl.ingest.observer.combined`): after each stored batch it tells the pure guard
(``core/flood.py``) every event that stored something (a ``duplicate`` — a retry or a redelivery of
what is stored — is not counted, so a retry or a replay raises no alert). Each alert is

- logged once, ``flood.alert`` with every field of the alert;
- counted, ``sigma_aetl_flood_alerts_total{contract,kind,source}``;
- handed to :class:`~sigma_aetl.ingest.alert_delivery.Deliveries` (the store, the optional webhook),
  which never makes the pipeline wait;
- for the worker with ``flood_pause`` (the alert's ``action`` is ``paused``), kept for the worker to
  pause that partition (:meth:`FloodMonitor.take_pauses`) before its next poll.

Keys are bounded as the metrics' labels are (``metric_labels.py``): a contract version the registry does
not hold is keyed ``name@_unregistered`` (or ``_unregistered@_unregistered`` for an unknown name), so a
producer inventing names floods one key, not the guard's memory. ``sigma_aetl_flood_guard_state
{contract,partition}`` is each key's state at scrape time: 0 ok, 1 alerting, 2 paused.
"""

import os
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from sigma_aetl import logs
from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core.alerts import Alert, AlertAction
from sigma_aetl.core.flood import FloodGuard, FloodKey, Source, Thresholds
from sigma_aetl.core.records import StoredRecord
from sigma_aetl.ingest.alert_delivery import Deliveries, Webhook
from sigma_aetl.ingest.gateway import Gateway
from sigma_aetl.ingest.metric_labels import Labels
from sigma_aetl.ingest.metrics import Metrics, status_of
from sigma_aetl.ingest.observer import combined
from sigma_aetl.ingest.outcome import Outcome
from sigma_aetl.settings import Settings
from sigma_aetl.stores import Store

_log = logs.get("flood")

OK, ALERTING, PAUSED = 0, 1, 2
"""The values of ``sigma_aetl_flood_guard_state``."""


def thresholds_of(settings: Settings) -> Thresholds:
    """The guard's thresholds from the ``flood_*`` settings."""
    return Thresholds(
        invalid_ratio=settings.flood_invalid_ratio,
        window_seconds=settings.flood_window_seconds,
        min_events=settings.flood_min_events,
        consecutive_failures=settings.flood_consecutive_failures,
        max_keys=settings.flood_max_keys,
    )


def webhook_of(settings: Settings) -> Webhook | None:
    """The webhook from the settings, or None."""
    if settings.flood_webhook_url is None:
        return None
    return Webhook(
        settings.flood_webhook_url,
        settings.flood_webhook_timeout,
        settings.flood_webhook_attempts,
        settings.flood_webhook_backoff,
    )


def this_process() -> str:
    """``host:pid``: which process raised an alert."""
    return f"{socket.gethostname()}:{os.getpid()}"


def partition_of(record: StoredRecord) -> str | None:
    """``topic:partition`` of a record consumed from Kafka; None for any other source."""
    source = record.source
    if source.get("kind") != "kafka":
        return None
    return f"{source.get('topic')}:{source.get('partition')}"


def attach(gateway: Gateway, source: Source, metrics: Metrics | None = None) -> "FloodMonitor | None":
    """The monitor the gateway's settings ask for, fed by its pipeline beside the metrics and served by
    them; None (nothing attached) when no threshold is set. The caller closes it."""
    monitor = FloodMonitor.of_settings(gateway.settings, gateway.store, source)
    if monitor is not None:
        gateway.pipeline.observer = combined(gateway.pipeline.observer, monitor)
        monitor.register(metrics)
    return monitor


@contextmanager
def guarding(gateway: Gateway, source: Source) -> Iterator["FloodMonitor | None"]:
    """:func:`attach` for the block; then the queued alerts are delivered (``sigma-aetl ingest``)."""
    monitor = attach(gateway, source)
    try:
        yield monitor
    finally:
        if monitor is not None:
            monitor.close()


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


class FloodMonitor:
    """The guard of one face, fed by its pipeline; see the module docstring."""

    def __init__(
        self,
        thresholds: Thresholds,
        source: Source,
        deliveries: Deliveries,
        *,
        pause: bool = False,
        clock: Callable[[], datetime] = utc_now,
        process: str | None = None,
    ) -> None:
        self.source = source
        self.deliveries = deliveries
        deliveries.webhook_failed = self.webhook_failed
        self.pause = pause and source == "kafka"
        self.clock = clock
        self.guard = FloodGuard(thresholds, process or this_process(), self._action)
        self.paused: dict[str, Alert] = {}
        """Partitions paused: ``topic:partition`` → the alert that paused it (the worker tells)."""
        self._lock = threading.Lock()  # the pipeline's thread feeds the guard; a scrape reads it
        self._labels: Labels | None = None
        self._alerts: dict[tuple[str, str], int] = {}
        self._webhook_failures = 0
        self._pauses: list[Alert] = []

    @classmethod
    def of_settings(cls, settings: Settings, store: Store, source: Source) -> "FloodMonitor | None":
        """The monitor the settings ask for (None when no threshold is set), delivering to ``store``."""
        thresholds = thresholds_of(settings)
        if not thresholds.enabled:
            return None
        deliveries = Deliveries(store, webhook_of(settings))
        return cls(thresholds, source, deliveries, pause=settings.flood_pause)

    # -- the BatchObserver side (observer.py): only ``stored`` matters here --------------------------

    def decided(self, events: int, seconds: float) -> None:
        """Nothing: the guard counts stored events only."""

    def written(self, events: int, seconds: float) -> None:
        """Nothing: the guard counts stored events only."""

    def write_failed(self, events: int) -> None:
        """Nothing: a write that failed stored nothing (the batch is retried)."""

    def stored(
        self, registry: Registry, records: Sequence[StoredRecord], outcomes: Sequence[Outcome]
    ) -> None:
        """Tell the guard every event of a stored batch that stored something; raise what it trips."""
        now = self.clock()
        with self._lock:
            labels = self._labels_of(registry)
            keys: dict[tuple[str, str | None], FloodKey] = {}  # one key object per contract and partition
            events: list[tuple[FloodKey, bool]] = []
            for record, outcome in zip(records, outcomes, strict=True):
                if status_of(record, outcome) == "duplicate":
                    continue
                at = (outcome.contract_ref, partition_of(record))
                key = keys.get(at)
                if key is None:
                    key = keys[at] = FloodKey("@".join(labels.contract(at[0])), at[1])
                events.append((key, outcome.status == "FAILED"))
            raised = self.guard.observe_all(events, now, self.source)
            for alert in raised:
                self._count(alert)
        for alert in raised:
            _log.warning("flood.alert", **alert.model_dump(mode="json"))
            self.deliveries.put(alert)

    # -- the worker side --------------------------------------------------------------------------

    def take_pauses(self) -> list[Alert]:
        """The alerts that asked to pause their partition since the last call (the worker pauses them)."""
        with self._lock:
            taken, self._pauses = self._pauses, []
        return taken

    def mark_paused(self, alert: Alert) -> None:
        """``alert``'s partition is paused because of it."""
        with self._lock:
            self.paused[alert.partition or ""] = alert

    def release(self, partition: str) -> None:
        """``partition`` is consumed again (resumed, or handed to another member): re-arm its guard."""
        with self._lock:
            self.paused.pop(partition, None)
            self.guard.rearm(partition)

    def webhook_failed(self) -> None:
        """Count an alert the webhook did not take."""
        with self._lock:
            self._webhook_failures += 1

    def close(self) -> None:
        """Let the queued alerts be saved and posted (for a bounded time)."""
        self.deliveries.close()

    # -- metrics ----------------------------------------------------------------------------------

    def register(self, metrics: Metrics | None) -> None:
        """Serve the guard's series from ``metrics`` (nothing when metrics are off)."""
        if metrics is not None:
            metrics.register(self)

    def collect(self) -> Iterator[Metric]:
        """The guard's series, read now (``prometheus_client`` calls it at each scrape)."""
        alerts = CounterMetricFamily(
            "sigma_aetl_flood_alerts",
            "Flood-guard alerts raised, by contract version as addressed (bounded), kind and source.",
            labels=("contract", "kind", "source"),
        )
        state = GaugeMetricFamily(
            "sigma_aetl_flood_guard_state",
            "Flood-guard state per contract version and Kafka partition (empty for HTTP and files): "
            "0 ok, 1 alerting, 2 paused.",
            labels=("contract", "partition"),
        )
        failures = CounterMetricFamily(
            "sigma_aetl_flood_webhook_failures",
            "Alerts the webhook did not take: attempts ran out, or its queue was full.",
        )
        with self._lock:
            for (contract, kind), count in sorted(self._alerts.items()):
                alerts.add_metric([contract, kind, self.source], count)
            known = self.guard.known()
            for key in sorted(known):
                state.add_metric([key.contract, key.partition or ""], self._state_of(key))
            shown = {key.partition for key in known}
            for partition, alert in sorted(self.paused.items()):  # paused, its key forgotten meanwhile
                if partition not in shown:
                    state.add_metric([alert.contract, partition], PAUSED)
            failures.add_metric([], self._webhook_failures)
        return iter((alerts, state, failures))

    def describe(self) -> list[Metric]:
        """No description up front: the series are known at scrape time only."""
        return []

    def _state_of(self, key: FloodKey) -> int:
        if key.partition is not None and key.partition in self.paused:
            return PAUSED
        return ALERTING if self.guard.alerting(key) else OK

    def _count(self, alert: Alert) -> None:
        at = (alert.contract, alert.kind)
        self._alerts[at] = self._alerts.get(at, 0) + 1
        if alert.action == "paused":
            self._pauses.append(alert)

    def _action(self, key: FloodKey) -> AlertAction:
        return "paused" if self.pause and key.partition is not None else "alerted"

    def _labels_of(self, registry: Registry) -> Labels:
        if self._labels is None or self._labels.registry is not registry:
            self._labels = Labels(registry)
        return self._labels
