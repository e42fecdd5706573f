"""API keys: the scope grammar, what a scope grants, and how a token is hashed and compared.

Pure: tokens are made at the edge (``stores/keys.py``, from :mod:`secrets`), and only their SHA-256 is
stored. SHA-256 is enough for such tokens: they are 32 random bytes, so there is nothing to guess that a
slow hash would protect, and one hash per request stays cheap. Scopes::

    ingest:<contract>   send events to that contract (POST /v1/ingest/<contract>/..., and
                        POST /api/validate when its default contract has that name)
    ingest:*            send events to every contract
    read                every read view: records, failures (raw payloads and headers masked), stats,
                        contracts, the API documents
    read:raw            read, with the raw payloads and transport headers of failure records shown
    admin               everything above, and the administrative actions
"""

import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

ADMIN = "admin"
READ = "read"
READ_RAW = "read:raw"
INGEST_ANY = "ingest:*"
INGEST = "ingest:"
TOKEN_PREFIX = "sgk_"
"""Every token starts so: a secret scanner (or a person) recognises a leaked one."""
MAX_TOKEN = 256
"""Longest token the gateway hashes; a longer one is no token it issued."""
_NAMED = frozenset({ADMIN, READ, READ_RAW, INGEST_ANY})
_CONTRACT = re.compile(r"[^@\s=*:]+")  # a contract name as NAME@VERSION writes one (core/refs.py), no * or :
GRAMMAR = "ingest:<contract>, ingest:*, read, read:raw or admin"


class ScopeError(ValueError):
    """Text that is not a scope."""


def parse_scope(text: str) -> str:
    """``"ingest:shipment"`` → itself; raises ScopeError for anything outside the grammar."""
    scope = text.strip()
    if scope in _NAMED:
        return scope
    if scope.startswith(INGEST) and _CONTRACT.fullmatch(scope[len(INGEST) :]):
        return scope
    raise ScopeError(f"{text!r} is not a scope; use {GRAMMAR}")


def parse_scopes(texts: Iterable[str]) -> tuple[str, ...]:
    """Each scope parsed, without repeats, sorted; at least one (raises ScopeError)."""
    scopes = tuple(sorted({parse_scope(text) for text in texts}))
    if not scopes:
        raise ScopeError(f"a key needs at least one scope: {GRAMMAR}")
    return scopes


def ingest_scope(contract: str) -> str:
    """The scope that sends events to ``contract``."""
    return f"{INGEST}{contract}"


def grants(scopes: frozenset[str], needed: str) -> bool:
    """Whether a key holding ``scopes`` may do what ``needed`` names (one scope of the grammar)."""
    if needed in scopes or ADMIN in scopes:
        return True
    if needed.startswith(INGEST):
        return INGEST_ANY in scopes
    return needed == READ and READ_RAW in scopes


def presented_token(headers: dict[str, str]) -> str | None:
    """The token of ``Authorization: Bearer <token>``, else of ``X-API-Key``, from headers named in lower
    case; None when neither is sent. The gateway (``http/auth.py``) and the worker's admin endpoints
    (``kafka/admin.py``) read a key this one way."""
    scheme, _, token = headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return headers.get("x-api-key", "").strip() or None


def token_hash(token: str) -> str:
    """The SHA-256 of a token, as hex: what a store keeps and looks a key up by."""
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def same_hash(stored: str, presented: str) -> bool:
    """Compare two token hashes in constant time."""
    return hmac.compare_digest(stored.encode("ascii"), presented.encode("ascii"))


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A key as stored: never its token, only the token's hash."""

    key_id: str
    name: str
    scopes: tuple[str, ...]
    token_hash: str
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        """Not revoked."""
        return self.revoked_at is None

    def shown(self) -> dict[str, object]:
        """What a person may see of the key: everything but the token's hash."""
        return {
            "id": self.key_id,
            "name": self.name,
            "scopes": list(self.scopes),
            "created_at": self.created_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
        }
