"""What one write (or one purge, or one migration batch) adds to the per-minute analytics roll-ups.

Both stores keep three roll-ups (docs/observability.md, "Failure analytics"), each keyed by the UTC minute
of an item's ``received_at`` (integer microseconds of the minute's start):

    traffic    (minute, contract, version)            accepted records and failures
    failures   (minute, class id)                     failures (the class gives contract as addressed,
                                                      version, root cause and fields)
    failure hours (hour, class id)                    the same per UTC hour: what an hour or day bucket
                                                      reads (a week is 168 rows per class, not 10,080)
    producers  (minute, contract, version, producer)  accepted records and failures per producer label

Only rows a write really inserts count: a duplicate, a retry or a replayed failure adds nothing, and a
record a replay stores counts at its own ``received_at`` (the original event's). A failure counts under
the contract and version *as addressed* (``shipment@9`` of an unknown version counts as version 9); one
whose reference is not ``NAME@INTEGER`` counts in the failures roll-up (by class) only.

:class:`Rollup` sums a write's items per key in Python, so the store applies one upsert per distinct key
(a transaction of 500 events of one minute, one version and one producer is three upserts). A purge builds
the same deltas with ``n=-1``.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from sigma_aetl.core.refs import parse_ref

MINUTE_US = 60_000_000
"""One minute in microseconds."""
HOUR_US = 60 * MINUTE_US
"""One hour in microseconds."""

TrafficKey = tuple[int, str, int]
"""(minute µs, contract, version)."""
FailureKey = tuple[int, str]
"""(minute µs, class id)."""
ProducerKey = tuple[int, str, int, str]
"""(minute µs, contract, version, producer label)."""


def minute_of(received_us: int) -> int:
    """The start of the UTC minute holding ``received_us`` (microseconds)."""
    return received_us - received_us % MINUTE_US


def addressed(contract_ref: str) -> tuple[str, int] | None:
    """The contract and version a failure addressed; None when its reference is not ``NAME@INTEGER``."""
    try:
        ref = parse_ref(contract_ref)
    except ValueError:
        return None
    if not ref.version.isdigit() or int(ref.version) < 1:
        return None
    return ref.name, int(ref.version)


@dataclass(slots=True)
class Rollup:
    """A write's additions to the three roll-ups: [accepted, failed] per traffic and producer key, failures
    per class minute."""

    traffic: dict[TrafficKey, list[int]] = field(default_factory=dict)
    failures: dict[FailureKey, int] = field(default_factory=dict)
    producers: dict[ProducerKey, list[int]] = field(default_factory=dict)

    def add_record(
        self, contract: str, version: int, received_us: int, labels: Iterable[str], n: int = 1
    ) -> None:
        """Count ``n`` accepted records stored anew, received in the minute of ``received_us``."""
        self._add((minute_of(received_us), contract, version), labels, 0, n)

    def add_failure(
        self, contract_ref: str, class_id: str, received_us: int, labels: Iterable[str], n: int = 1
    ) -> None:
        """Count ``n`` failures of one class stored anew (``n=-1``: one purged)."""
        minute = minute_of(received_us)
        key = (minute, class_id)
        self.failures[key] = self.failures.get(key, 0) + n
        version = addressed(contract_ref)
        if version is not None:
            self._add((minute, *version), labels, 1, n)

    def _add(self, key: TrafficKey, labels: Iterable[str], slot: int, n: int) -> None:
        counts = self.traffic.get(key)
        if counts is None:
            counts = self.traffic[key] = [0, 0]
        counts[slot] += n
        for label in labels:
            found = self.producers.get((*key, label))
            if found is None:
                found = self.producers[(*key, label)] = [0, 0]
            found[slot] += n

    def failure_hours(self) -> dict[FailureKey, int]:
        """The failures per (hour µs, class id): the minute deltas summed per hour."""
        hours: dict[FailureKey, int] = {}
        for (minute, class_id), n in self.failures.items():
            key = (minute - minute % HOUR_US, class_id)
            hours[key] = hours.get(key, 0) + n
        return hours

    def __bool__(self) -> bool:
        return bool(self.traffic or self.failures)
