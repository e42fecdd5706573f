"""Deterministic identifiers: the same event always gets the same id, on any machine, at any time.

A retry or a replay therefore hits the store's unique index and writes nothing new.

Ids are injective over what they are made of: each part is one element of a JSON array (whose encoding
escapes every quote and backslash), never joined with a separator, so no value a producer chooses (an
``Idempotency-Key`` of ``batch-7#0``, a contract named ``a@b``) can spell another arrival's identity.
Only SHA-256 collisions (of the 128 bits kept) could give two identities one id.
"""

from collections.abc import Sequence
from typing import Any, Literal

from sigma_aetl.core.canonical import canonical_bytes, sha256_hex

SourceIdentity = tuple[str, ...]
"""What makes an arrival unique: ``("key", idempotency_key)`` (``("key", key, index)`` for event ``index``
of a keyed batch), ``("kafka", topic, partition, offset)``, ``("raw", sha256_of_bytes)``, or a file's line
and its bytes: ``("file", path, line, "raw", sha256)``."""

IdentityKind = Literal["key", "transport", "raw"]
"""Where a failure id comes from: the producer's key, the transport's own coordinates, or the bytes."""

_UNNAMED = frozenset({"?", ""})
"""Parts that ``NAME@VERSION`` text writes as it writes a part not named."""
_FROM_BYTES = frozenset({"raw", "raw-prefix"})
"""Source identities made of the bytes themselves (``raw-prefix``: a body over the hard request limit)."""


def record_id(contract: str, version: int, identity: Sequence[Any]) -> str:
    """Id of an accepted record: contract name, version and the values of its identity fields."""
    digest = sha256_hex(canonical_bytes(["record", contract, version, list(identity)]))
    return f"rec_{digest[:32]}"


def failure_id(contract: str | None, version: str | None, source: SourceIdentity) -> str:
    """Id of a failure record: the contract and version as addressed (None: not named) and the arrival's
    source identity.

    An address that ``NAME@VERSION`` text spells unambiguously (no ``@`` in the name, no part empty or
    ``?``) hashes that text, as ids always did, so events stored before keep their ids and a retry across
    an upgrade still writes nothing new. Any other address hashes its two parts apart, as an array of
    four elements that the three-element form can never equal.
    """
    if _spelled_unambiguously(contract, version):
        parts: list[Any] = ["failure", f"{contract or '?'}@{version or '?'}", list(source)]
    else:
        parts = ["failure", contract, version, list(source)]
    return f"fail_{sha256_hex(canonical_bytes(parts))[:32]}"


def _spelled_unambiguously(contract: str | None, version: str | None) -> bool:
    """Whether ``NAME@VERSION`` (``?`` for a part not named) gives back the two parts: split at the first
    ``@``, with ``?`` meaning "not named" (an empty part is written ``?`` too)."""
    return contract not in _UNNAMED and version not in _UNNAMED and (contract is None or "@" not in contract)


def raw_identity(raw: bytes) -> SourceIdentity:
    """Source identity of an arrival that carries no key of its own: its bytes."""
    return ("raw", sha256_hex(raw))


def key_identity(key: str, index: int | None = None) -> SourceIdentity:
    """Source identity of an event the producer named: its key, and its place in a keyed batch."""
    return ("key", key) if index is None else ("key", key, str(index))


def identity_kind(source: SourceIdentity) -> IdentityKind:
    """Which kind of source identity ``source`` is: ``key``, ``raw`` (made of the bytes) or ``transport``."""
    if source[0] == "key":
        return "key"
    return "raw" if source[0] in _FROM_BYTES else "transport"
