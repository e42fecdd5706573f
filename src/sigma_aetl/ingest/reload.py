"""Contract reloads for a running gateway or worker: a new registry built off to the side, handed over only
if it loads exactly as a start would accept it.

A reload loads the whole contracts directory again into a *new* :class:`Registry`, checks its released
versions against ``contracts.lock.json`` (an edited or deleted release refuses the reload, as it would
refuse a start) and whatever the face needs (the HTTP default contract, the worker's routed contracts).
Only then does the face swap its reference to it (``Gateway.swap_registry``): the HTTP app on its event
loop, the Kafka worker between two batches. A refused reload changes nothing — the running registry keeps
serving — and says why, in the log (``contracts.reload_refused``, level error) and in
:attr:`ContractReloader.last`, which ``/readyz`` shows.

What a reload costs the events: nothing. The registry is immutable and the pipeline reads its reference
once per batch, so routing an event takes no lock and no system call, before, during or after a reload;
a batch already being decided finishes on the registry it started with, and every record names the
fingerprint of the version that judged it. The reload itself (reading and compiling every contract file)
runs off the hot path: in a thread for the HTTP app, between batches for the worker. Watching for changes
is a few ``stat`` calls per interval (:func:`~sigma_aetl.contracts.snapshot.snapshot`).
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from sigma_aetl import logs
from sigma_aetl.contracts.immutability import enforce
from sigma_aetl.contracts.loader import load_registry
from sigma_aetl.contracts.registry import Registry, RegistryChanges
from sigma_aetl.contracts.snapshot import Snapshot, snapshot

Require = Callable[[Registry], object]
"""What a face needs of a registry, checked before it is handed over; raises ContractError when missing."""

Clock = Callable[[], datetime]

_log = logs.get("contracts.reload")


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _nothing(_registry: Registry) -> None:
    """Require nothing beyond a clean load."""


@dataclass(frozen=True)
class ReloadAttempt:
    """One reload: what asked for it, when, and how it ended."""

    trigger: str
    """``SIGHUP`` or ``watch`` (a contract file or the lock changed)."""
    at: datetime
    status: Literal["reloaded", "unchanged", "refused"]
    registry: str
    """The digest of the registry serving after the attempt (the old one when refused or unchanged)."""
    error: str | None = None
    changes: RegistryChanges | None = None

    def as_json(self) -> dict[str, Any]:
        """The attempt as ``/readyz`` shows it."""
        shown: dict[str, Any] = {
            "status": self.status,
            "trigger": self.trigger,
            "at": self.at.isoformat(),
            "registry": self.registry,
        }
        if self.error is not None:
            shown["error"] = self.error
        if self.changes is not None:
            shown.update(vars(self.changes))
        return shown


class ContractReloader:
    """Reloads one contracts directory on request; thread-safe (reloads take turns)."""

    def __init__(
        self, directory: Path, current: Registry, *, require: Require = _nothing, clock: Clock = _utc_now
    ) -> None:
        self.directory = directory
        self.current = current
        """The registry handed out last: the one serving, or about to."""
        self.last: ReloadAttempt | None = None
        """The latest attempt; a refusal stays here until a later reload succeeds."""
        self._require = require
        self._clock = clock
        self._seen: Snapshot = current.files if current.files is not None else snapshot(directory)
        self._lock = threading.Lock()

    def changed(self) -> bool:
        """Whether a contract file or the lock changed since the current registry (or the last attempt)
        was loaded: a few ``stat`` calls."""
        return snapshot(self.directory) != self._seen

    def reload(self, trigger: str) -> Registry | None:
        """A new registry, loaded and checked, to swap in; None when refused (logged) or unchanged."""
        with self._lock:
            self._seen = snapshot(self.directory)  # before reading: a change made meanwhile is seen next time
            try:
                candidate = load_registry(self.directory)
                enforce(candidate)
                self._require(candidate)
            except Exception as exc:  # noqa: BLE001 - whatever breaks a reload, the running registry keeps serving
                self._record(trigger, "refused", error=_message(exc))
                _log.error(
                    "contracts.reload_refused",
                    trigger=trigger,
                    error=_message(exc),
                    registry=self.current.digest,
                    kept="the contracts already loaded keep serving",
                )
                return None
            return self._hand_over(trigger, candidate)

    def status(self) -> dict[str, Any]:
        """The contracts serving and the latest reload, for ``/readyz``."""
        shown: dict[str, Any] = {"contracts": len(self.current), "registry": self.current.digest}
        if self.last is not None:
            shown["reload"] = self.last.as_json()
        return shown

    def _hand_over(self, trigger: str, candidate: Registry) -> Registry | None:
        if candidate.digest == self.current.digest:
            self._record(trigger, "unchanged")
            _log.info("contracts.unchanged", trigger=trigger, registry=candidate.digest)
            return None
        changes = candidate.changes_since(self.current)
        previous, self.current = self.current, candidate
        self._record(trigger, "reloaded", changes=changes)
        _log.info(
            "contracts.reloaded",
            trigger=trigger,
            registry=candidate.digest,
            previous=previous.digest,
            contracts=[contract.ref for contract in candidate.all()],
            **vars(changes),
        )
        return candidate

    def _record(
        self,
        trigger: str,
        status: Literal["reloaded", "unchanged", "refused"],
        *,
        error: str | None = None,
        changes: RegistryChanges | None = None,
    ) -> None:
        digest = self.current.digest
        self.last = ReloadAttempt(trigger, self._clock(), status, digest, error, changes)


def _message(exc: Exception) -> str:
    """The error as an operator reads it: SIGMA-AETL's own messages as they are, others with their type."""
    text = str(exc)
    return text if type(exc).__module__.startswith("sigma_aetl") else f"{type(exc).__name__}: {text}"
