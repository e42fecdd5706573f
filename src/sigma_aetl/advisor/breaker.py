"""The circuit breaker: after ``threshold`` consecutive failed calls, stop calling for ``cooldown`` seconds.

    closed --threshold failures in a row--> open --cooldown over--> half-open --the one call ok--> closed
                                              ^                         |
                                              +------the call failed----+

Closed, the advisor makes up to its concurrency of calls; open, none (jobs stay queued, nothing is
counted against them); half-open, exactly one, whose outcome closes or opens the breaker again.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

BreakerState = Literal["closed", "open", "half-open"]


@dataclass
class CircuitBreaker:
    """Counts consecutive failures; :meth:`room` says how many calls may start now."""

    threshold: int
    cooldown: float
    clock: Callable[[], float] = time.monotonic
    failures: int = 0
    opened_at: float | None = None
    _trial: bool = field(default=False, repr=False)

    @property
    def state(self) -> BreakerState:
        """closed, open, or half-open (the cooldown is over: one call may try)."""
        if self.opened_at is None:
            return "closed"
        return "half-open" if self.clock() - self.opened_at >= self.cooldown else "open"

    def room(self, concurrency: int, in_flight: int) -> int:
        """How many calls may start now, with ``in_flight`` under way."""
        state = self.state
        if state == "closed":
            return max(0, concurrency - in_flight)
        if state == "half-open" and not self._trial and in_flight == 0:
            return 1
        return 0

    def started(self) -> None:
        """A call starts (in the half-open state, it is the one trial)."""
        if self.state == "half-open":
            self._trial = True

    def succeeded(self) -> None:
        """A call answered: the breaker closes."""
        self.failures, self.opened_at, self._trial = 0, None, False

    def failed(self) -> None:
        """A call failed: the trial reopens the breaker, and ``threshold`` in a row open it."""
        self.failures += 1
        if self._trial or self.failures >= self.threshold:
            self.opened_at, self._trial = self.clock(), False

    def reopens_in(self) -> float:
        """Seconds until an open breaker lets one call try (0 when it is not open)."""
        if self.opened_at is None:
            return 0.0
        return max(0.0, self.cooldown - (self.clock() - self.opened_at))
