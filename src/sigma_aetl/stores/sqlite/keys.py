"""The ``api_keys`` table: API keys by id, each token's SHA-256 unique (the token itself is never stored).

Keys are few and change rarely, so they are written on a connection of their own beside the writer
process (SQLite's lock orders the two, as for a purge) and read on the reader's. A store made before keys
existed gains the table when opened for writing; opened read-only, it reads as a store with no key.
"""

import sqlite3
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import orjson

from sigma_aetl.core.keys import ApiKey
from sigma_aetl.errors import StoreError
from sigma_aetl.stores.base import from_micros, micros

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    key_id     TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    scopes     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
"""
_COLUMNS = "key_id, token_hash, name, scopes, created_at, revoked_at"


def add(conn: sqlite3.Connection, key: ApiKey) -> None:
    """Insert ``key``; a key id or token hash stored already is a StoreError."""
    row = (key.key_id, key.token_hash, key.name, orjson.dumps(key.scopes).decode(), micros(key.created_at))
    try:
        conn.execute(f"INSERT INTO api_keys ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, NULL)", row)
    except sqlite3.IntegrityError as exc:
        raise StoreError(f"a key with id {key.key_id!r} or the same token is stored already") from exc


def revoke(conn: sqlite3.Connection, key_id: str, at: datetime) -> ApiKey | None:
    """Set the key's ``revoked_at`` unless it has one; the key as it is now, or None if unknown."""
    conn.execute(
        "UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL", (micros(at), key_id)
    )
    return _one(conn, "key_id = ?", key_id)


def find(conn: sqlite3.Connection, token_hash: str) -> ApiKey | None:
    """The key with this token hash (one lookup on its unique index)."""
    return _absent_as(None, lambda: _one(conn, "token_hash = ?", token_hash))


def every(conn: sqlite3.Connection) -> list[ApiKey]:
    """Every key, oldest first."""
    select = f"SELECT {_COLUMNS} FROM api_keys ORDER BY created_at, key_id"
    return _absent_as([], lambda: [_key(row) for row in conn.execute(select)])


def any_key(conn: sqlite3.Connection) -> bool:
    """Whether any key was stored, revoked or not."""
    select = "SELECT 1 FROM api_keys LIMIT 1"
    return _absent_as(False, lambda: conn.execute(select).fetchone() is not None)


def _one(conn: sqlite3.Connection, where: str, value: str) -> ApiKey | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM api_keys WHERE {where}", (value,)).fetchone()
    return _key(row) if row else None


def _key(row: tuple[Any, ...]) -> ApiKey:
    key_id, token_hash, name, scopes, created, revoked = row
    revoked_at = None if revoked is None else from_micros(revoked)
    return ApiKey(key_id, name, tuple(orjson.loads(scopes)), token_hash, from_micros(created), revoked_at)


def _absent_as(default: T, read: Callable[[], T]) -> T:
    """``read()``, or ``default`` in a store opened read-only that predates the table."""
    try:
        return read()
    except sqlite3.OperationalError as exc:
        if "no such table: api_keys" in str(exc):
            return default
        raise
