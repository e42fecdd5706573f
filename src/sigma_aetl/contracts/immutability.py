"""Released versions are immutable: compare the loaded contracts with the lock, and refuse a mismatch.

:func:`enforce` runs in :meth:`sigma_aetl.ingest.gateway.Gateway.open`, so ``serve``, ``ingest`` and the Kafka
worker never start on a released version that was edited in place or deleted; ``sigma-aetl contracts
verify`` runs :func:`verify` for CI. The message names each version and shows what changed.
"""

from dataclasses import dataclass, field
from typing import Any, Literal

from sigma_aetl.contracts.evolution.diff import Change, diff_definitions
from sigma_aetl.contracts.lock import LOCK_FILE, Release
from sigma_aetl.contracts.registry import Registry
from sigma_aetl.errors import ContractLockError

ADVICE = (
    "Released versions are immutable: restore the released file(s) (e.g. git restore), and make the change "
    "in a new version (sigma-aetl contracts new-version NAME)."
)


@dataclass(frozen=True)
class Violation:
    """One released version that no longer matches the lock."""

    release: Release
    problem: Literal["modified", "missing"]
    current: str | None = None
    """The fingerprint the version has now (``modified`` only)."""
    changes: list[Change] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The violation for a person: a heading, then one line per change."""
        where = f"{self.release.ref} ({self.release.source})"
        if self.problem == "missing":
            return [f"{where}: released, but no contract file defines it any more"]
        locked, now = self.release.fingerprint[:19], (self.current or "")[:19]
        head = f"{where}: edited after release (locked {locked}…, now {now}…)"
        return [head, *(f"  {change.describe()}" for change in self.changes)]

    def as_json(self) -> dict[str, Any]:
        """The violation as a JSON object."""
        return {
            "ref": self.release.ref,
            "problem": self.problem,
            "source": self.release.source,
            "locked_fingerprint": self.release.fingerprint,
            "current_fingerprint": self.current,
            "changes": [change.as_json() for change in self.changes],
        }


def verify(registry: Registry) -> list[Violation]:
    """Every released version that was edited or deleted, in lock order."""
    violations = []
    for key in sorted(registry.lock.releases):
        release = registry.lock.releases[key]
        contract = registry.get(*key)
        if contract is None:
            violations.append(Violation(release, "missing"))
        elif contract.fingerprint != release.fingerprint:
            changes = diff_definitions(release.definition, contract.definition())
            violations.append(Violation(release, "modified", contract.fingerprint, changes))
    return violations


def enforce(registry: Registry) -> None:
    """Raise :class:`ContractLockError` describing every violation, if there is any."""
    violations = verify(registry)
    if violations:
        raise ContractLockError(report(registry, violations))


def report(registry: Registry, violations: list[Violation]) -> str:
    """The refusal message: where the lock is, each violation with its changes, and what to do."""
    where = registry.lock.path or LOCK_FILE
    count = len(violations)
    lines = [f"{where}: {count} released contract version(s) no longer match the lock:"]
    lines.extend(f"  {line}" for violation in violations for line in violation.lines())
    lines.append(ADVICE)
    return "\n".join(lines)
