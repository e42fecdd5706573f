"""Issuing API keys: a new random token, of which the store keeps only the hash.

The edge where keys are made (``sigma-aetl keys create``, and tests): the core (``core/keys.py``) holds the
grammar and the hashing, and has no randomness. A token is ``sgk_`` and 43 URL-safe characters: 32 bytes
from :func:`secrets.token_urlsafe`. A key id is ``key_`` and 16 hex digits, random too, so that ids say
nothing about tokens or about how many keys exist.
"""

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sigma_aetl.core.keys import TOKEN_PREFIX, ApiKey, parse_scopes, token_hash
from sigma_aetl.stores.base import Store

TOKEN_BYTES = 32


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A key just stored, and its token: the only time the token exists outside its holder."""

    key: ApiKey
    token: str

    def shown(self) -> dict[str, object]:
        """``{"id", "name", "token", "scopes"}``: what ``keys create --json`` prints."""
        return {
            "id": self.key.key_id,
            "name": self.key.name,
            "token": self.token,
            "scopes": list(self.key.scopes),
        }


def issue(store: Store, name: str, scopes: Iterable[str]) -> IssuedKey:
    """Make a key named ``name`` with ``scopes`` and store it; raises ScopeError for a bad scope and
    StoreError if it could not be stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    key = ApiKey(f"key_{secrets.token_hex(8)}", name, parse_scopes(scopes), token_hash(token), now())
    store.add_key(key)
    return IssuedKey(key, token)


def now() -> datetime:
    """The current UTC time to the millisecond, which every store keeps exactly (MongoDB keeps no more)."""
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
