"""Deterministic identifiers: the same event always gets the same id, on any machine, at any time.

A retry or a replay therefore hits the store's unique index and writes nothing new.
"""

from collections.abc import Sequence
from typing import Any

from sigma_aetl.core.canonical import canonical_bytes, sha256_hex

SourceIdentity = tuple[str, ...]
"""What makes an arrival unique: ``("key", idempotency_key)``, ``("kafka", topic, partition, offset)``,
``("raw", sha256_of_bytes)``, or a file's line and its bytes: ``("file", path, line, "raw", sha256)``."""


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
