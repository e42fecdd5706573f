"""API keys in the core: the scope grammar, what a scope grants, token hashing and comparison."""

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sigma_aetl.core.keys import (
    ADMIN,
    INGEST_ANY,
    READ,
    READ_RAW,
    ApiKey,
    ScopeError,
    grants,
    ingest_scope,
    parse_scope,
    parse_scopes,
    same_hash,
    token_hash,
)

NEEDS = [READ, READ_RAW, ADMIN, "ingest:shipment", "ingest:order"]


@pytest.mark.parametrize("text", ["admin", "read", "read:raw", "ingest:*", "ingest:shipment", " read "])
def test_every_scope_of_the_grammar_parses(text: str) -> None:
    """Each form of the grammar parses to itself, surrounding whitespace ignored."""
    assert parse_scope(text) == text.strip()


@pytest.mark.parametrize("text", ["", "write", "ingest:", "ingest:a:b", "ingest:a*", "READ", "ingest:a b"])
def test_text_outside_the_grammar_is_refused_naming_it(text: str) -> None:
    """Anything else is a ScopeError whose message names the text and lists the grammar."""
    with pytest.raises(ScopeError, match=r"is not a scope; use ingest:<contract>, ingest:\*, read"):
        parse_scope(text)


def test_scopes_are_deduplicated_sorted_and_at_least_one() -> None:
    """A key's scopes are each parsed once, in order; none at all is refused."""
    assert parse_scopes(["read", "ingest:b", "read", "ingest:a"]) == ("ingest:a", "ingest:b", "read")
    with pytest.raises(ScopeError, match="at least one scope"):
        parse_scopes([])


@pytest.mark.parametrize(
    ("held", "needed", "granted"),
    [
        ({"ingest:shipment"}, "ingest:shipment", True),
        ({"ingest:shipment"}, "ingest:order", False),
        ({INGEST_ANY}, "ingest:order", True),
        ({INGEST_ANY}, READ, False),
        ({READ}, READ, True),
        ({READ}, READ_RAW, False),
        ({READ}, "ingest:shipment", False),
        ({READ_RAW}, READ, True),
        ({READ_RAW}, READ_RAW, True),
        ({"ingest:shipment"}, READ, False),
        ({READ, READ_RAW, INGEST_ANY}, ADMIN, False),
    ],
)
def test_what_each_scope_grants(held: set[str], needed: str, granted: bool) -> None:
    """A scope grants itself; ingest:* every contract; read:raw also read; nothing but admin grants admin."""
    assert grants(frozenset(held), needed) is granted


@given(st.sampled_from(NEEDS))
def test_admin_grants_everything(needed: str) -> None:
    """An admin key may do anything a scope names."""
    assert grants(frozenset({ADMIN}), needed)


@given(st.text(min_size=1).filter(lambda name: parse_or_none(f"ingest:{name}") not in (None, INGEST_ANY)))
def test_ingest_scope_of_a_contract_grants_only_that_contract(name: str) -> None:
    """``ingest:<name>`` grants sending to ``name`` and to no other contract (``*`` is no contract name:
    ``ingest:*`` is the scope of every contract)."""
    assert grants(frozenset({ingest_scope(name)}), ingest_scope(name))
    assert not grants(frozenset({ingest_scope(name)}), ingest_scope(name + "x"))


def parse_or_none(text: str) -> str | None:
    """The parsed scope, or None when the text is not one."""
    try:
        return parse_scope(text)
    except ScopeError:
        return None


@given(st.text(), st.text())
def test_token_hash_is_sha256_hex_and_injective_in_practice(first: str, second: str) -> None:
    """A token's hash is 64 hex digits, the same each time, different for different tokens."""
    assert token_hash(first) == token_hash(first)
    assert len(token_hash(first)) == 64
    assert (token_hash(first) == token_hash(second)) is (first == second)


def test_hashes_compare_equal_only_when_equal() -> None:
    """The constant-time comparison says equal exactly for equal hashes."""
    assert same_hash(token_hash("a"), token_hash("a"))
    assert not same_hash(token_hash("a"), token_hash("b"))


def test_what_a_person_sees_of_a_key_holds_no_hash() -> None:
    """``shown()`` has the id, name, scopes and times, never the token's hash."""
    key = ApiKey("key_1", "n", ("read",), token_hash("t"), datetime(2024, 1, 1, tzinfo=UTC))
    shown = key.shown()
    assert shown == {
        "id": "key_1",
        "name": "n",
        "scopes": ["read"],
        "created_at": "2024-01-01T00:00:00+00:00",
        "revoked_at": None,
    }
    assert key.token_hash not in str(shown)
    assert key.active
