"""The store conformance suite, API keys: every store keeps, lists, finds and revokes keys alike."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sigma_aetl.core.keys import ApiKey, token_hash
from sigma_aetl.errors import StoreError
from sigma_aetl.stores import Store, open_store
from sigma_aetl.stores.keys import issue

T0 = datetime(2024, 5, 1, 12, 0, 0, 123000, tzinfo=UTC)


def key(n: int, *scopes: str) -> ApiKey:
    """A key made at T0 plus ``n`` seconds, its token ``token-n``."""
    return ApiKey(
        f"key_{n}", f"producer {n}", scopes or ("read",), token_hash(f"token-{n}"), T0 + timedelta(seconds=n)
    )


def test_a_new_store_has_no_key(store: Store) -> None:
    """An empty store lists no key, finds none, and has no active key: the gateway runs open."""
    assert store.list_keys() == []
    assert store.find_key(token_hash("anything")) is None
    assert not store.has_keys()


def test_keys_are_stored_listed_oldest_first_and_found_by_hash(store: Store) -> None:
    """Added keys come back exactly, oldest first, and each is found by its token's hash alone."""
    second, first = key(2, "ingest:shipment", "read"), key(1, "admin")
    store.add_key(second)
    store.add_key(first)
    assert store.list_keys() == [first, second]
    assert store.find_key(token_hash("token-2")) == second
    assert store.find_key(token_hash("token-3")) is None
    assert store.has_keys()


def test_an_id_or_a_token_hash_cannot_be_stored_twice(store: Store) -> None:
    """A second key with the same id, or the same token hash, is a StoreError and changes nothing."""
    store.add_key(key(1))
    with pytest.raises(StoreError, match="stored already"):
        store.add_key(ApiKey("key_1", "other", ("read",), token_hash("other"), T0))
    with pytest.raises(StoreError, match="stored already"):
        store.add_key(ApiKey("key_9", "other", ("read",), token_hash("token-1"), T0))
    assert store.list_keys() == [key(1)]


def test_revoking_keeps_the_key_and_its_first_revocation_time(store: Store) -> None:
    """A revoked key is still listed and found, with revoked_at; revoking it again keeps the first time."""
    store.add_key(key(1))
    revoked = store.revoke_key("key_1", T0 + timedelta(hours=1))
    assert revoked is not None
    assert revoked.revoked_at == T0 + timedelta(hours=1)
    assert not revoked.active
    again = store.revoke_key("key_1", T0 + timedelta(hours=2))
    assert again is not None
    assert again.revoked_at == T0 + timedelta(hours=1)
    assert store.find_key(token_hash("token-1")) == revoked
    assert store.list_keys() == [revoked]


def test_revoking_an_unknown_id_is_none(store: Store) -> None:
    """Revoking an id no key has answers None and stores nothing."""
    assert store.revoke_key("key_nope", T0) is None
    assert store.list_keys() == []


def test_revoking_every_key_keeps_the_gateway_closed(store: Store) -> None:
    """has_keys stays true once a key was stored, even when every key is revoked."""
    store.add_key(key(1))
    store.add_key(key(2))
    store.revoke_key("key_1", T0)
    store.revoke_key("key_2", T0)
    assert store.has_keys()


def test_issued_keys_store_only_the_hash_of_a_random_prefixed_token(store: Store) -> None:
    """``issue`` stores a key whose hash matches the token it returns; the token itself is nowhere stored."""
    issued = issue(store, "billing", ["ingest:shipment", "read"])
    other = issue(store, "billing", ["read"])
    assert issued.token.startswith("sgk_")
    assert len(issued.token) >= 4 + 43
    assert issued.token != other.token
    assert issued.key.key_id != other.key.key_id
    assert store.find_key(token_hash(issued.token)) == issued.key
    assert issued.key.scopes == ("ingest:shipment", "read")
    assert issued.token not in repr(store.list_keys())


def test_a_second_handle_sees_keys_and_revocations_at_once(store_url: str, store: Store) -> None:
    """Keys are shared by every process on the store: another handle sees an added and a revoked key."""
    other = open_store(store_url)
    try:
        store.add_key(key(1))
        assert other.has_keys()
        assert other.find_key(token_hash("token-1")) == key(1)
        other.revoke_key("key_1", T0)
        assert store.find_key(token_hash("token-1")) == replace(key(1), revoked_at=T0)
    finally:
        other.close()


def test_a_read_only_store_reads_keys_and_refuses_to_change_them(store_url: str, store: Store) -> None:
    """Opened read-only, a store lists and finds keys but neither adds nor revokes one."""
    store.add_key(key(1))
    reader = open_store(store_url, read_only=True)
    try:
        assert reader.list_keys() == [key(1)]
        with pytest.raises(StoreError, match="read-only"):
            reader.add_key(key(2))
        with pytest.raises(StoreError, match="read-only"):
            reader.revoke_key("key_1", T0)
    finally:
        reader.close()


def test_a_sqlite_store_made_before_keys_reads_as_having_none(tmp_path: Path) -> None:
    """A SQLite store without the keys table, opened read-only, has no key (and so runs open)."""
    import sqlite3  # noqa: PLC0415 - only this test builds a store by hand

    path = tmp_path / "old.db"
    sqlite3.connect(path).execute("CREATE TABLE records (record_id TEXT PRIMARY KEY)").connection.close()
    reader = open_store(f"sqlite:///{path}", read_only=True)
    try:
        assert reader.list_keys() == []
        assert not reader.has_keys()
        assert reader.find_key(token_hash("t")) is None
    finally:
        reader.close()
