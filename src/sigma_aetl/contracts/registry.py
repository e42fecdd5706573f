"""The registry: every loaded contract version, side by side, and explicit routing to one of them.

A registry never changes once built. A running gateway that reloads its contracts builds a whole new
registry and swaps the reference (see ``ingest/reload.py``); what the registry offers for that is what it
was loaded from (:attr:`Registry.files`), a :attr:`~Registry.digest` that names it in logs, and
:meth:`~Registry.changes_since` another one.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from sigma_aetl.contracts.lock import Lock, ReleaseState
from sigma_aetl.contracts.snapshot import Snapshot
from sigma_aetl.core.canonical import canonical_bytes, sha256_hex
from sigma_aetl.core.contract import Contract
from sigma_aetl.core.decision import FieldError
from sigma_aetl.core.refs import parse_ref
from sigma_aetl.core.taxonomy import STAGE_OF, RootCause
from sigma_aetl.errors import ContractLoadError, ContractNotFound

_VERSION = re.compile(r"[1-9][0-9]{0,8}")


class Registry:
    """Contract versions by name and version; never guesses a version that was not asked for.

    It also knows which versions are released (``lock``, read from the contracts directory's lock file),
    and, when loaded from a directory, the state of the files it was read from (``files``, taken before
    they were read, so a change made during the load is seen as a change afterwards).
    """

    def __init__(
        self, contracts: Iterable[Contract], lock: Lock | None = None, *, files: Snapshot | None = None
    ) -> None:
        self.lock = lock or Lock()
        self.files = files
        self._by_key: dict[tuple[str, int], Contract] = {}
        for contract in contracts:
            key = (contract.name, contract.version)
            if key in self._by_key:
                first, second = (_origin(found) for found in (self._by_key[key], contract))
                raise ContractLoadError(
                    f"{contract.ref} is defined twice, in {first} and in {second}; a version lives in "
                    "one file: remove one, or give it the next version number"
                )
            self._by_key[key] = contract
        # the hot path of routing: the exact text an event carries, e.g. ("shipment", "1")
        self._by_address = {(name, str(version)): found for (name, version), found in self._by_key.items()}

    def __len__(self) -> int:
        return len(self._by_key)

    @cached_property
    def digest(self) -> str:
        """``sha256:…`` of every version's ref, fingerprint and release state: equal digests, same decisions.

        It names a registry in logs and on ``/readyz``; each record still names the fingerprint of the one
        version that judged it.
        """
        entries = [[c.ref, c.fingerprint, self.state(c).value] for c in self.all()]
        return "sha256:" + sha256_hex(canonical_bytes(entries))

    def changes_since(self, previous: "Registry") -> "RegistryChanges":
        """What this registry adds, removes, changes (a draft edited) and releases, against ``previous``."""
        before = {c.ref: c for c in previous.all()}
        now = {c.ref: c for c in self.all()}
        kept = before.keys() & now.keys()
        return RegistryChanges(
            added=sorted(now.keys() - before.keys()),
            removed=sorted(before.keys() - now.keys()),
            changed=sorted(r for r in kept if now[r].fingerprint != before[r].fingerprint),
            released=sorted(
                r
                for r in kept
                if self.state(now[r]) is ReleaseState.RELEASED
                and previous.state(before[r]) is not ReleaseState.RELEASED
            ),
        )

    def all(self) -> list[Contract]:
        """Every version, ordered by name then version."""
        return [self._by_key[key] for key in sorted(self._by_key)]

    def versions(self, name: str) -> list[int]:
        """The versions registered under ``name``, ascending."""
        return sorted(version for (known, version) in self._by_key if known == name)

    def get(self, name: str, version: int) -> Contract | None:
        """One version, or None."""
        return self._by_key.get((name, version))

    def latest(self, name: str) -> Contract | None:
        """The highest version of ``name``, or None."""
        versions = self.versions(name)
        return self._by_key[(name, versions[-1])] if versions else None

    def state(self, contract: Contract) -> ReleaseState:
        """Whether ``contract`` is a draft, released, or released and modified since."""
        return self.lock.state(contract)

    def require(self, ref: str) -> Contract:
        """The version named by ``name@version``, for operators; raises :class:`ContractNotFound`."""
        try:
            parsed = parse_ref(ref)
        except ValueError as exc:
            raise ContractNotFound(str(exc)) from None
        found = self.route(parsed.name, parsed.version)
        if isinstance(found, FieldError):
            raise ContractNotFound(found.message)
        return found

    def route(self, name: str | None, version: str | None) -> Contract | FieldError:
        """The contract an event addresses, or the routing error that makes it a failure."""
        found = self._by_address.get((name or "", version or ""))
        if found is not None:
            return found
        if not name or version is None:
            return routing_error(RootCause.UNROUTED, "The event does not name a contract and a version.")
        known = self.versions(name)
        if not known:
            names = ", ".join(sorted({n for n, _ in self._by_key})) or "none"
            return routing_error(
                RootCause.UNKNOWN_CONTRACT, f"No contract is named {name!r} (known contracts: {names})."
            )
        contract = self.get(name, int(version)) if _VERSION.fullmatch(version) else None
        if contract is None:
            listed = ", ".join(str(v) for v in known)
            return routing_error(
                RootCause.UNKNOWN_VERSION,
                f"Contract {name!r} has no version {version!r} (known versions: {listed}).",
            )
        return contract


@dataclass(frozen=True)
class RegistryChanges:
    """The versions one registry adds, removes, changes and releases against another (refs, sorted)."""

    added: list[str]
    removed: list[str]
    changed: list[str]
    """Drafts whose definition changed (a released version cannot: the lock refuses it)."""
    released: list[str]
    """Versions that were drafts and are released now."""

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed or self.released)


def _origin(contract: Contract) -> str:
    return contract.source or "a contract built in code"


def routing_error(cause: RootCause, message: str) -> FieldError:
    """A routing failure: the event is kept but never examined against any contract."""
    return FieldError(
        path="",
        loc=(),
        type=cause.value,
        root_cause=cause,
        stage=STAGE_OF[cause],
        message=message,
        explanation=message,
    )
