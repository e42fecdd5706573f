"""Which partitions the worker paused for a flood, and the operator's requests to resume them.

Shared by two threads: the worker's, which owns the consumer (only it calls ``pause``/``resume`` on it),
and the admin endpoints' (``admin.py``), which read :meth:`Pauses.states` and ask for a resume. A resume
is a request the worker carries out between two batches (:meth:`Pauses.take_resumes`), so the consumer
is never touched by two threads; :meth:`Pauses.ask_resume` hands back an event set once it is done.

A partition taken from this member (a rebalance revokes it, or the group loses it) is no longer paused
here (:meth:`Pauses.released`): its new owner consumes it from the last committed offset, unpaused,
unless its own guard trips. The worker re-arms its guard for every released partition, and resumes one
that comes back to it later (:meth:`Pauses.take_returned`), so it starts unpaused here too.
"""

import threading
from dataclasses import dataclass
from datetime import datetime

from sigma_aetl.core.alerts import Alert
from sigma_aetl.kafka.message import Partition


@dataclass(frozen=True, slots=True)
class Pause:
    """Why one partition is paused."""

    alert_id: str
    reason: str
    paused_at: datetime


@dataclass(frozen=True, slots=True)
class PartitionState:
    """One assigned partition as the admin endpoint shows it."""

    topic: str
    partition: int
    pause: Pause | None
    """Why it is paused; None: it is consumed."""

    def shown(self) -> dict[str, object]:
        """The JSON of ``GET /admin/partitions``."""
        pause = self.pause
        return {
            "topic": self.topic,
            "partition": self.partition,
            "paused": pause is not None,
            "reason": pause and pause.reason,
            "alert_id": pause and pause.alert_id,
            "paused_at": pause and pause.paused_at.isoformat(),
        }


def partition_name(where: Partition) -> str:
    """``topic:partition``, as the flood guard and its alerts name a partition."""
    return f"{where[0]}:{where[1]}"


def parse_partition(name: str) -> Partition:
    """``topic:partition`` → ``(topic, partition)`` (a topic may hold no ``:``, Kafka forbids it)."""
    topic, _, number = name.rpartition(":")
    return topic, int(number)


def reason_of(alert: Alert) -> str:
    """Why an alert paused its partition, in words."""
    what = "failed share" if alert.kind == "invalid_ratio" else "failures in a row"
    return f"{alert.kind}: {alert.contract} {what} {alert.value:g} reached {alert.threshold:g}"


class Pauses:
    """See the module docstring."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._assigned: set[Partition] = set()
        self._paused: dict[Partition, Pause] = {}
        self._resumes: dict[Partition, threading.Event] = {}
        self._released: list[Partition] = []
        self._returning: set[Partition] = set()  # released while paused: resumed if assigned again

    # -- the worker's thread ------------------------------------------------------------------------

    def assigned(self, partitions: set[Partition]) -> None:
        """The partitions assigned to this member now."""
        with self._lock:
            self._assigned = set(partitions)

    def paused(self, where: Partition, alert: Alert) -> None:
        """``where`` was paused because of ``alert``."""
        with self._lock:
            self._paused[where] = Pause(alert.alert_id, reason_of(alert), alert.raised_at)

    def is_paused(self, where: Partition) -> bool:
        """Whether ``where`` is paused."""
        with self._lock:
            return where in self._paused

    def released(self, gone: set[Partition]) -> None:
        """``gone`` is no longer this member's: not paused here any more; a resume asked is moot."""
        with self._lock:
            self._assigned -= gone
            self._returning |= gone & self._paused.keys()
            for where in gone:
                self._paused.pop(where, None)
                if (asked := self._resumes.pop(where, None)) is not None:
                    asked.set()
            self._released.extend(sorted(gone))

    def take_released(self) -> list[Partition]:
        """The partitions released since the last call."""
        with self._lock:
            taken, self._released = self._released, []
        return taken

    def take_returned(self) -> list[Partition]:
        """Partitions released while paused and assigned to this member again: the worker resumes them
        (librdkafka may keep a partition's pause across its reassignment to the same consumer)."""
        with self._lock:
            back = self._returning & self._assigned
            self._returning -= back
        return sorted(back)

    def take_resumes(self) -> list[Partition]:
        """The paused partitions an operator asked to resume since the last call."""
        with self._lock:
            return sorted(self._resumes)

    def resumed(self, where: Partition) -> None:
        """``where`` is consumed again: the operator's request is done."""
        with self._lock:
            self._paused.pop(where, None)
            if (asked := self._resumes.pop(where, None)) is not None:
                asked.set()

    # -- the admin endpoints' threads ---------------------------------------------------------------

    def states(self) -> list[PartitionState]:
        """Every assigned partition (and any paused one), in order."""
        with self._lock:
            every = sorted(self._assigned | self._paused.keys())
            return [
                PartitionState(topic, number, self._paused.get((topic, number))) for topic, number in every
            ]

    def ask_resume(self, where: Partition) -> threading.Event | None:
        """Ask the worker to resume ``where``; the event is set once it has. None: it is not paused."""
        with self._lock:
            if where not in self._paused:
                return None
            return self._resumes.setdefault(where, threading.Event())

    def is_assigned(self, where: Partition) -> bool:
        """Whether ``where`` is assigned to this member."""
        with self._lock:
            return where in self._assigned
