"""A histogram for the hot path: ``observe`` is a bisect and three additions under one lock.

``prometheus_client.Histogram.observe`` takes about 1.6 µs here (a lock per bucket and per sum); the
pipeline observes three histograms per batch, which made a one-event batch (a single HTTP request under
light load) pay 4.5 µs for them. :class:`Histogram` keeps plain counts and hands Prometheus a
``HistogramMetricFamily`` at scrape time, with the same name, help, buckets and samples
(``_bucket{le=...}``, ``_count``, ``_sum``) as ``prometheus_client``'s own.
"""

import threading
from bisect import bisect_left
from collections.abc import Iterator, Sequence

from prometheus_client.core import HistogramMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry
from prometheus_client.utils import floatToGoString


class Histogram(Collector):
    """Observations counted into ``buckets`` (upper bounds, ascending; ``+Inf`` is added)."""

    def __init__(self, name: str, documentation: str, buckets: Sequence[float], registry: CollectorRegistry):
        self.name = name
        self.documentation = documentation
        self._bounds = [float(bound) for bound in buckets]
        self._counts = [0] * (len(self._bounds) + 1)
        self._sum = 0.0
        self._lock = threading.Lock()
        registry.register(self)

    def observe(self, value: float) -> None:
        """Count one observation of ``value``."""
        index = bisect_left(self._bounds, value)  # the first bound >= value: Prometheus' ``le``
        with self._lock:
            self._counts[index] += 1
            self._sum += value

    def describe(self) -> Iterator[HistogramMetricFamily]:
        """The histogram's name, so that the registry refuses a second one named alike."""
        yield HistogramMetricFamily(self.name, self.documentation)

    def collect(self) -> Iterator[HistogramMetricFamily]:
        """The histogram as Prometheus reads it: cumulative buckets, then the sum."""
        with self._lock:
            counts, total = list(self._counts), self._sum
        cumulative, running = [], 0
        for bound, count in zip([*self._bounds, float("inf")], counts, strict=True):
            running += count
            cumulative.append((floatToGoString(bound), running))  # type: ignore[no-untyped-call]
        yield HistogramMetricFamily(self.name, self.documentation, buckets=cumulative, sum_value=total)
