"""Deterministic identifiers: the same event always gets the same id, on any machine, at any time.

A retry or a replay therefore hits the store's unique index and writes nothing new.
"""

from collections.abc import Sequence
from typing import Any, Literal

from sigma_aetl.core.canonical import canonical_bytes, sha256_hex

SourceIdentity = tuple[str, ...]
"""What makes an arrival unique: ``("key", idempotency_key)``, ``("kafka", topic, partition, offset)``,
``("raw", sha256_of_bytes)``, or a file's line and its bytes: ``("file", path, line, "raw", sha256)``."""

IdentityKind = Literal["key", "transport", "raw"]
"""Where a failure id comes from: the producer's key, the transport's own coordinates, or the bytes."""

_FROM_BYTES = frozenset({"raw", "raw-prefix"})
"""Source identities made of the bytes themselves (``raw-prefix``: a body over the hard request limit)."""


def record_id(contract: str, version: int, identity: Sequence[Any]) -> str:
    """Id of an accepted record: contract name, version and the values of its identity fields."""
    digest = sha256_hex(canonical_bytes(["record", contract, version, list(identity)]))
    return f"rec_{digest[:32]}"


def failure_id(contract_ref: str, source: SourceIdentity) -> str:
    """Id of a failure record: the contract as addressed and the arrival's source identity."""
    digest = sha256_hex(canonical_bytes(["failure", contract_ref, list(source)]))
    return f"fail_{digest[:32]}"


def raw_identity(raw: bytes) -> SourceIdentity:
    """Source identity of an arrival that carries no key of its own: its bytes."""
    return ("raw", sha256_hex(raw))


def identity_kind(source: SourceIdentity) -> IdentityKind:
    """Which kind of source identity ``source`` is: ``key``, ``raw`` (made of the bytes) or ``transport``."""
    if source[0] == "key":
        return "key"
    return "raw" if source[0] in _FROM_BYTES else "transport"
