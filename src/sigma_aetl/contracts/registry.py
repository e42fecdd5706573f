"""The registry: every loaded contract version, side by side, and explicit routing to one of them."""

import re
from collections.abc import Iterable

from sigma_aetl.contracts.lock import Lock, ReleaseState
from sigma_aetl.core.contract import Contract
from sigma_aetl.core.decision import FieldError
from sigma_aetl.core.refs import parse_ref
from sigma_aetl.core.taxonomy import STAGE_OF, RootCause
from sigma_aetl.errors import ContractLoadError, ContractNotFound

_VERSION = re.compile(r"[1-9][0-9]{0,8}")


class Registry:
    """Contract versions by name and version; never guesses a version that was not asked for.

    It also knows which versions are released (``lock``, read from the contracts directory's lock file).
    """

    def __init__(self, contracts: Iterable[Contract], lock: Lock | None = None) -> None:
        self.lock = lock or Lock()
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
