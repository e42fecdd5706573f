"""The lock file: which contract versions are released, with the fingerprint and definition of each.

``contracts/contracts.lock.json`` is written by ``sigma-aetl contracts lock`` and committed with the
contracts. A released version is immutable: the gateway refuses to start when one no longer matches its
entry (see :mod:`sigma_aetl.contracts.immutability`). The definition is kept beside the fingerprint so that
a mismatch can show what changed. The bytes are deterministic — keys sorted, entries ordered by contract
name then version, two-space indents, one final newline — so locking twice gives the same file::

    {
      "about": "Released contract versions ...",
      "format": 1,
      "released": [
        {"contract": "shipment", "definition": {...}, "fingerprint": "sha256:...",
         "source": "shipment/v1.py", "version": 1}
      ]
    }
"""

import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from sigma_aetl.core.canonical import canonical_bytes, sha256_hex
from sigma_aetl.core.contract import Contract
from sigma_aetl.core.decision import FieldError
from sigma_aetl.core.jsonparse import Limits, parse
from sigma_aetl.errors import ContractLoadError

LOCK_FILE = "contracts.lock.json"
ABOUT = (
    "Released contract versions: each is immutable. Written by `sigma-aetl contracts lock`; "
    "checked on every start and by `sigma-aetl contracts verify`. Do not edit by hand."
)
_LIMITS = Limits(max_bytes=64 * 1024 * 1024, max_depth=200)


class ReleaseState(StrEnum):
    """Where a contract version stands."""

    DRAFT = "draft"
    """Not in the lock file: may still change."""
    RELEASED = "released"
    """In the lock file, and its definition matches the locked fingerprint."""
    MODIFIED = "modified"
    """In the lock file, but edited since: the gateway refuses to start."""


class Release(BaseModel):
    """One released version as the lock file records it."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    contract: str
    version: int
    fingerprint: str
    source: str
    definition: dict[str, Any]

    @property
    def ref(self) -> str:
        """``name@version``."""
        return f"{self.contract}@{self.version}"

    @classmethod
    def of(cls, contract: Contract) -> "Release":
        """The entry that releases ``contract``."""
        return cls(
            contract=contract.name,
            version=contract.version,
            fingerprint=contract.fingerprint,
            source=contract.source,
            definition=contract.definition(),
        )


class _LockFile(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    about: str = ABOUT
    format: Literal[1] = 1
    released: list[Release]


@dataclass(frozen=True)
class Lock:
    """The released versions of one contracts directory (empty when it has no lock file)."""

    path: Path | None = None
    releases: dict[tuple[str, int], Release] = field(default_factory=dict)

    def get(self, name: str, version: int) -> Release | None:
        """The release entry of ``name@version``, if released."""
        return self.releases.get((name, version))

    def state(self, contract: Contract) -> ReleaseState:
        """Draft, released, or released and modified since."""
        release = self.get(contract.name, contract.version)
        if release is None:
            return ReleaseState.DRAFT
        if release.fingerprint != contract.fingerprint:
            return ReleaseState.MODIFIED
        return ReleaseState.RELEASED

    def releasing(self, contracts: Iterable[Contract]) -> "Lock":
        """A new lock that also releases ``contracts`` (already released ones are left as they are)."""
        releases = dict(self.releases)
        for contract in contracts:
            releases.setdefault((contract.name, contract.version), Release.of(contract))
        return Lock(self.path, releases)

    def to_bytes(self) -> bytes:
        """The file's deterministic bytes."""
        entries = [self.releases[key] for key in sorted(self.releases)]
        document = _LockFile(released=entries).model_dump(mode="json")
        return (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def lock_path(directory: Path) -> Path:
    """Where the lock file of a contracts directory lives."""
    return directory / LOCK_FILE


def read_lock(directory: Path) -> Lock:
    """The lock of ``directory``; an empty lock when there is no file. Raises ContractLoadError."""
    path = lock_path(directory)
    if not path.is_file():
        return Lock(path)
    parsed = parse(path.read_bytes(), _LIMITS)
    if isinstance(parsed, FieldError):
        raise ContractLoadError(f"{path}: {parsed.message}")
    try:
        document = _LockFile.model_validate(parsed.value)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ContractLoadError(f"{path}: not a contracts lock file: {problems}") from None
    return Lock(path, _entries(path, document.released))


def _entries(path: Path, releases: list[Release]) -> dict[tuple[str, int], Release]:
    entries: dict[tuple[str, int], Release] = {}
    for release in releases:
        if "sha256:" + sha256_hex(canonical_bytes(release.definition)) != release.fingerprint:
            raise ContractLoadError(
                f"{path}: the entry of {release.ref} does not match its own fingerprint "
                "(the lock file was edited by hand)"
            )
        if entries.setdefault((release.contract, release.version), release) is not release:
            raise ContractLoadError(f"{path}: {release.ref} is released twice")
    return entries


def write_lock(lock: Lock, directory: Path) -> Path:
    """Write the lock file atomically (a temporary file, then a rename); return its path."""
    path = lock_path(directory)
    fd, temporary = tempfile.mkstemp(prefix=".contracts.lock.", dir=directory)
    try:
        os.chmod(temporary, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        with os.fdopen(fd, "wb") as out:
            out.write(lock.to_bytes())
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
