"""``sigma_aetl_advisory_jobs{state}``: the advisory queue's depth, read from the store at scrape time.

The queue lives in the store (docs/diagnostics.md, "Advisory AI"), shared by every gateway and by a
separate ``sigma-aetl advisor run``, so the gauge is the store's count, not one process's view: ``queued``
(waiting, retries included), ``leased`` (a call in flight), ``done`` (advised) and ``failed`` (ended in an
advisory error). A scrape reads the store at most once every ``ttl`` seconds; when the store cannot answer,
the series is left out of that scrape (and logged) rather than failing ``/metrics``.
"""

import time
from collections.abc import Callable, Iterable

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from sigma_aetl import logs
from sigma_aetl.core.advisories import JOB_STATES
from sigma_aetl.errors import StoreError
from sigma_aetl.stores import Store

_log = logs.get("metrics")
NAME = "sigma_aetl_advisory_jobs"
HELP = "Advisory jobs in the store's queue by state (queued, leased, done, failed: an advisory error)."


class AdvisoryQueueCollector(Collector):
    """Serves :data:`NAME` from ``store.advisory_queue()``, cached for ``ttl`` seconds."""

    def __init__(self, store: Store, ttl: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.ttl = ttl
        self.clock = clock
        self._read_at: float | None = None
        self._counts: dict[str, int] | None = None

    def describe(self) -> Iterable[Metric]:
        """The family's name and help, without reading the store (called once, at registration)."""
        return [GaugeMetricFamily(NAME, HELP, labels=("state",))]

    def collect(self) -> Iterable[Metric]:
        """The gauge, one sample per job state; nothing when the store cannot say."""
        counts = self._current()
        if counts is None:
            return []
        family = GaugeMetricFamily(NAME, HELP, labels=("state",))
        for state in JOB_STATES:
            family.add_metric((state,), float(counts.get(state, 0)))
        return [family]

    def _current(self) -> dict[str, int] | None:
        now = self.clock()
        if self._read_at is not None and now - self._read_at < self.ttl:
            return self._counts
        try:
            self._counts = self.store.advisory_queue()
        except StoreError as exc:
            _log.warning("metrics.advisory_queue_unavailable", error=str(exc))
            self._counts = None
        self._read_at = now
        return self._counts
