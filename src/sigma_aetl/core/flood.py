"""The flood guard: per key, the invalid ratio over a sliding window and the failures in a row.

A key is the contract as addressed (``name@version``) and, for the Kafka worker, the partition
(``topic:partition``). Each stored event is told to the guard as failed or not, with the time it was
stored; the guard keeps, per key, per-second buckets over the last ``window_seconds`` seconds and the
count of failures in a row::

    guard = FloodGuard(Thresholds(invalid_ratio=0.5, window_seconds=60, min_events=100), "host:42")
    alerts = guard.observe(FloodKey("shipment@1", None), failed=True, now=moment, source="http")

A threshold crossed yields one :class:`~sigma_aetl.core.alerts.Alert`; the same key and kind alerts again
only after its value has fallen back below the threshold (hysteresis: a window thinning out below
``min_events`` does not re-arm it), or after :meth:`FloodGuard.rearm` (an operator resumed a paused
partition). The invalid ratio may trip only over at least ``min_events``
events of the window. At most ``max_keys`` keys are kept; the least recently seen is forgotten first.

Pure and deterministic: the same events at the same times yield the same alerts, ids included (an alert
id is a hash of the process, the key, the kind, the time and the guard's count of alerts). Memory is
bounded: ``max_keys`` keys of at most ``window_seconds`` buckets each.
"""

import hashlib
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, NamedTuple

from sigma_aetl.core.alerts import Alert, AlertAction, AlertKind

Source = Literal["http", "kafka", "file"]
MAX_KEYS = 10_000
"""Keys a guard keeps unless told otherwise."""


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When the guard trips; a threshold of None is off (both None: the guard never trips)."""

    invalid_ratio: float | None = None
    """Failed events over all events of the window at or above which it trips (0 < ratio <= 1)."""
    window_seconds: int = 60
    min_events: int = 100
    """Events the window must hold before the invalid ratio may trip."""
    consecutive_failures: int | None = None
    max_keys: int = MAX_KEYS

    @property
    def enabled(self) -> bool:
        """Whether any threshold is set."""
        return self.invalid_ratio is not None or self.consecutive_failures is not None


@dataclass(frozen=True, slots=True, order=True)
class FloodKey:
    """What the guard measures apart: a contract as addressed, and a Kafka partition or None."""

    contract: str
    partition: str | None = None


@dataclass(slots=True)
class KeyState:
    """One key's window (``[second, events, failed]`` buckets, oldest first), sums and alerting kinds."""

    buckets: deque[list[int]] = field(default_factory=deque)
    events: int = 0
    failed: int = 0
    in_a_row: int = 0
    alerting: set[AlertKind] = field(default_factory=set)

    def add(self, second: int, failed: bool, window: int) -> None:
        """Count one event at ``second``, dropping the buckets that left the window."""
        while self.buckets and self.buckets[0][0] <= second - window:
            _, events, fails = self.buckets.popleft()
            self.events -= events
            self.failed -= fails
        if not self.buckets or self.buckets[-1][0] < second:
            self.buckets.append([second, 0, 0])
        last = self.buckets[-1]
        last[1] += 1
        last[2] += failed
        self.events += 1
        self.failed += failed
        self.in_a_row = self.in_a_row + 1 if failed else 0

    @property
    def ratio(self) -> float:
        """Failed over all events in the window (0 when empty)."""
        return self.failed / self.events if self.events else 0.0


class Measure(NamedTuple):
    """One threshold of one key: what it measures, its value now, the threshold and whether it is crossed."""

    kind: AlertKind
    value: float
    threshold: float
    crossed: bool
    """At or above the threshold, over enough events: it may alert."""
    events: int
    """Events the value is measured over: the window's, or the failures in a row."""

    @property
    def below(self) -> bool:
        """Back below the threshold: the kind may alert again (however few events the window holds, so a
        flood hovering around ``min_events`` does not alert again and again)."""
        return self.value < self.threshold


class FloodGuard:
    """Thresholds over the outcomes of many keys; see the module docstring."""

    def __init__(
        self,
        thresholds: Thresholds,
        process: str,
        action: Callable[[FloodKey], AlertAction] = lambda _key: "alerted",
    ) -> None:
        self.thresholds = thresholds
        self.process = process
        self.action = action
        """What an alert on a key does: ``paused`` for a worker's partition when pausing is on."""
        self.raised = 0
        self._keys: OrderedDict[FloodKey, KeyState] = OrderedDict()

    def observe(self, key: FloodKey, failed: bool, now: datetime, source: Source) -> list[Alert]:
        """Count one stored event of ``key``; the alerts it raises (none, one, or one of each kind)."""
        return self.observe_all([(key, failed)], now, source)

    def observe_all(
        self, events: Iterable[tuple[FloodKey, bool]], now: datetime, source: Source
    ) -> list[Alert]:
        """:meth:`observe` each ``(key, failed)`` in order, all stored at ``now`` (a batch)."""
        second, window = int(now.timestamp()), self.thresholds.window_seconds
        alerts: list[Alert] = []
        for key, failed in events:
            state = self._state(key)
            state.add(second, failed, window)
            if self._changes(state):
                alerts += self._judge(key, state, now, source)
        return alerts

    def _changes(self, state: KeyState) -> bool:
        """Whether a kind of ``state`` may start or stop alerting now (the cheap test made per event)."""
        ratio, in_a_row, alerting = (
            self.thresholds.invalid_ratio,
            self.thresholds.consecutive_failures,
            state.alerting,
        )
        if ratio is not None and (state.ratio < ratio) == ("invalid_ratio" in alerting):
            return True
        return in_a_row is not None and (state.in_a_row < in_a_row) == ("consecutive_failures" in alerting)

    def _judge(self, key: FloodKey, state: KeyState, now: datetime, source: Source) -> list[Alert]:
        alerts: list[Alert] = []
        for measure in self._measures(state):
            if measure.below:
                state.alerting.discard(measure.kind)
            elif measure.crossed and measure.kind not in state.alerting:
                state.alerting.add(measure.kind)
                alerts.append(self._alert(key, measure, now, source))
        return alerts

    def alerting(self, key: FloodKey) -> bool:
        """Whether ``key`` is above a threshold it alerted for."""
        state = self._keys.get(key)
        return state is not None and bool(state.alerting)

    def known(self) -> list[FloodKey]:
        """The keys kept, least recently seen first."""
        return list(self._keys)

    def rearm(self, partition: str) -> None:
        """Forget every key of ``partition``: its window starts empty and it may alert again."""
        for key in [key for key in self._keys if key.partition == partition]:
            del self._keys[key]

    def _state(self, key: FloodKey) -> KeyState:
        state = self._keys.get(key)
        if state is None:
            state = self._keys[key] = KeyState()
            if len(self._keys) > self.thresholds.max_keys:
                self._keys.popitem(last=False)
        else:
            self._keys.move_to_end(key)
        return state

    def _measures(self, state: KeyState) -> list[Measure]:
        """Each threshold that is set, measured on ``state``."""
        found: list[Measure] = []
        ratio, in_a_row = self.thresholds.invalid_ratio, self.thresholds.consecutive_failures
        if ratio is not None:
            crossed = state.events >= self.thresholds.min_events and state.ratio >= ratio
            found.append(Measure("invalid_ratio", state.ratio, ratio, crossed, state.events))
        if in_a_row is not None:
            crossed = state.in_a_row >= in_a_row
            found.append(Measure("consecutive_failures", state.in_a_row, in_a_row, crossed, state.in_a_row))
        return found

    def _alert(self, key: FloodKey, measure: Measure, now: datetime, source: Source) -> Alert:
        self.raised += 1
        return Alert(
            alert_id=alert_id(self.process, key, measure.kind, now, self.raised),
            kind=measure.kind,
            contract=key.contract,
            partition=key.partition,
            source=source,
            value=round(measure.value, 6),
            threshold=measure.threshold,
            window_events=measure.events,
            action=self.action(key),
            raised_at=now,
            process=self.process,
        )


def alert_id(process: str, key: FloodKey, kind: AlertKind, at: datetime, count: int) -> str:
    """``alr_`` and 32 hex characters: a hash of who raised which alert when, and its count."""
    text = "\x1f".join([process, key.contract, key.partition or "", kind, at.isoformat(), str(count)])
    return f"alr_{hashlib.sha256(text.encode()).hexdigest()[:32]}"
