"""The arrivals one write brings: the failure copies that count, and what they add to each failure id.

A failure identified by a key or by transport coordinates is one arrival however often it is written (a
retry, a redelivery, a re-read file): its copies after the first count nothing. A failure identified by its
bytes (``identified_by == "raw"``) has nothing else to tell one arrival from the next, so every copy is a new
arrival — two in the same write are two. Both stores take a write's failures through :func:`tally` and
apply the result in the same transaction (SQLite) or bulk write (MongoDB) as the records themselves.
"""

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sigma_aetl.core.records import MAX_LATEST, Arrival, FailureRecord
from sigma_aetl.stores.base import micros


def _latest_copies() -> deque[FailureRecord]:
    return deque(maxlen=MAX_LATEST)


@dataclass(slots=True)
class Tally:
    """What the copies of one counting failure id in one write add to its occurrences."""

    count: int = 0
    first_us: int = 0
    last_us: int = 0
    copies: deque[FailureRecord] = field(default_factory=_latest_copies)
    """The write's latest copies, oldest first, at most :data:`MAX_LATEST` (a flood's others are dropped
    as they come: only these become arrivals)."""

    def add(self, failure: FailureRecord, at_us: int) -> None:
        """Count one more copy, received at ``at_us`` (microseconds)."""
        if not self.count or at_us < self.first_us:
            self.first_us = at_us
        self.last_us = max(self.last_us, at_us)
        self.count += 1
        self.copies.append(failure)

    @property
    def latest(self) -> list[Arrival]:
        """The write's latest arrivals, oldest first, at most :data:`MAX_LATEST`."""
        return [copy.first_arrival() for copy in self.copies]


@dataclass(frozen=True, slots=True)
class Arrivals:
    """A write's failures: the first copy of each id, in order, and the tallies of the ids that count."""

    firsts: list[FailureRecord]
    tallies: dict[str, Tally]

    def report(self) -> dict[str, int]:
        """Failure id → arrivals counted (:attr:`WriteReport.counted_arrivals`)."""
        return {failure_id: tally.count for failure_id, tally in self.tallies.items()}


def tally(failures: Sequence[FailureRecord]) -> Arrivals:
    """The first copy of each failure id, and a tally of every copy of the ids identified by their bytes."""
    firsts: dict[str, FailureRecord] = {}
    tallies: dict[str, Tally] = {}
    stamps: dict[datetime, int] = {}  # a batch's events mostly share one arrival time
    for failure in failures:
        key = failure.failure_id
        if key not in firsts:
            firsts[key] = failure
        if failure.counts_arrivals:
            moment = failure.received_at
            at_us = stamps.get(moment)
            if at_us is None:
                at_us = stamps[moment] = micros(moment)
            counted = tallies.get(key)
            if counted is None:
                counted = tallies[key] = Tally()
            counted.add(failure, at_us)
    return Arrivals(list(firsts.values()), tallies)
