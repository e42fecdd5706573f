"""Canonical JSON: sorted keys, values untouched, the same bytes for the same value."""

from typing import Any

from sigma_aetl.core.canonical import canonical, canonical_bytes, sha256_hex


def test_keys_are_sorted_at_every_level() -> None:
    """Objects are sorted recursively, including inside arrays; arrays keep their order."""
    value = {"b": [{"z": 1, "a": 2}, 3], "a": {"y": None, "x": True}}
    assert canonical_bytes(value) == b'{"a":{"x":true,"y":null},"b":[{"a":2,"z":1},3]}'
    assert list(canonical(value)) == ["a", "b"]
    assert list(canonical(value)["b"][0]) == ["a", "z"]


def test_canonical_leaves_the_input_untouched() -> None:
    """canonical() builds a new structure; the input keeps its order."""
    value: dict[str, Any] = {"b": 1, "a": {"d": 1, "c": 2}}
    canonical(value)
    assert list(value) == ["b", "a"]
    assert list(value["a"]) == ["d", "c"]


def test_numbers_keep_their_type() -> None:
    """15 and 15.0 are different canonical bytes; nothing is normalised."""
    assert canonical_bytes({"w": 15}) == b'{"w":15}'
    assert canonical_bytes({"w": 15.0}) == b'{"w":15.0}'


def test_integers_beyond_64_bits_are_written_exactly() -> None:
    """A big integer is encoded digit for digit, with the keys still sorted."""
    assert (
        canonical_bytes({"b": 2**64, "a": -(2**70)})
        == b'{"a":-1180591620717411303424,"b":18446744073709551616}'
    )


def test_non_ascii_text_is_utf8_not_escaped() -> None:
    """Text is UTF-8 in the canonical bytes, on both encoder paths."""
    assert canonical_bytes({"c": "Dún"}) == '{"c":"Dún"}'.encode()
    assert canonical_bytes({"c": "Dún", "n": 2**64}) == '{"c":"Dún","n":18446744073709551616}'.encode()


def test_sha256_hex() -> None:
    """sha256_hex is the lowercase hex SHA-256 digest."""
    assert sha256_hex(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
