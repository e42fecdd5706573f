"""Strict JSON parsing: nothing repaired, nothing guessed, every refusal explained."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sigma_aetl.core.decision import FieldError
from sigma_aetl.core.jsonparse import Limits, Parsed, parse
from sigma_aetl.core.taxonomy import RootCause, Stage
from strategies import batch_bodies, json_ish_text, json_values

LIMITS = Limits()


def refused(raw: bytes, limits: Limits = LIMITS) -> FieldError:
    """The error ``parse`` answers for ``raw`` (failing the test if it parsed)."""
    result = parse(raw, limits)
    assert isinstance(result, FieldError), result
    assert result.path == ""
    assert result.loc == ()
    return result


def parsed(raw: bytes, limits: Limits = LIMITS) -> Parsed:
    """The value ``parse`` answers for ``raw`` (failing the test if it was refused)."""
    result = parse(raw, limits)
    assert isinstance(result, Parsed), result
    return result


def nested(depth: int) -> bytes:
    """An object nested ``depth`` levels deep: ``{"a":{"a":...{}}}``."""
    return b'{"a":' * (depth - 1) + b"{}" + b"}" * (depth - 1)


@pytest.mark.parametrize(
    "raw",
    [
        b"{",
        b'{"a": 1,}',
        b"{'a': 1}",
        b'{"a": 1} {"b": 2}',
        b'{"a": 01}',
        b'{"a": .5}',
        b'{"a": "tab\there"}',
        b"[1, 2",
        b'{"a" 1}',
        b"nul",
    ],
)
def test_malformed_json_is_refused(raw: bytes) -> None:
    """Text that is not RFC 8259 JSON is a malformed_json transport error."""
    error = refused(raw)
    assert error.root_cause is RootCause.MALFORMED_JSON
    assert error.type == "malformed_json"
    assert error.stage is Stage.TRANSPORT
    assert error.message.startswith("Not valid JSON: ")
    assert error.explanation == error.message


@pytest.mark.parametrize("raw", [b"", b"   ", b"\n\t"])
def test_empty_input_is_malformed(raw: bytes) -> None:
    """An empty or whitespace-only payload is malformed_json, not an empty object."""
    assert refused(raw).root_cause is RootCause.MALFORMED_JSON


def test_truncated_input_is_malformed() -> None:
    """A payload cut off mid-document is malformed_json."""
    error = refused(b'{"shipment_id": ')
    assert error.root_cause is RootCause.MALFORMED_JSON
    assert "line 1" in error.message


def test_invalid_utf8_reports_the_byte_and_offset() -> None:
    """Invalid UTF-8 is invalid_encoding and names the offending byte and its offset."""
    error = refused(b'{"id": "SHIP-\xff\xfe"}')
    assert error.root_cause is RootCause.INVALID_ENCODING
    assert error.type == "invalid_utf8"
    assert error.stage is Stage.TRANSPORT
    assert error.message == "Byte 0xff at offset 13 is not valid UTF-8."


def test_utf16_is_invalid_encoding() -> None:
    """UTF-16 text is not UTF-8 and is refused as invalid_encoding."""
    assert refused('{"a": 1}'.encode("utf-16")).root_cause is RootCause.INVALID_ENCODING


def test_byte_order_mark_is_invalid_encoding() -> None:
    """A UTF-8 byte order mark before the JSON text is invalid_encoding, not silently skipped."""
    error = refused(b'\xef\xbb\xbf{"a": 1}')
    assert error.root_cause is RootCause.INVALID_ENCODING
    assert error.type == "utf8_bom"


def test_byte_order_mark_inside_a_string_is_kept() -> None:
    """U+FEFF inside a string is ordinary text."""
    assert parsed('{"a": "\ufeffx"}'.encode()).value == {"a": "\ufeffx"}


@pytest.mark.parametrize("raw", [b'{"a": "\\ud800"}', b'{"a": "\\udc00x"}', b'["\\ud83d"]'])
def test_lone_surrogate_escape_is_refused(raw: bytes) -> None:
    """A \\u escape of a lone surrogate cannot be UTF-8 text and is refused as malformed_json."""
    assert refused(raw).root_cause is RootCause.MALFORMED_JSON


def test_surrogate_pair_escape_is_one_character() -> None:
    """A valid surrogate pair escape decodes to the one character it encodes."""
    assert parsed(b'{"a": "\\ud83d\\ude00"}').value == {"a": "\U0001f600"}


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        (b'{"a": 1, "a": 2}', "a"),
        (b'{"a": 1, "a": 1}', "a"),
        (b'{"x": {"b": 1, "c": 2, "b": 3}}', "b"),
        (b'{"x": [{"ok": 1}, {"d": 1, "d": 1}]}', "d"),
        (b'{"a": 1, "\\u0061": 2}', "a"),
        (b'{"a": ":", "a": ":"}', "a"),
    ],
)
def test_duplicate_keys_are_refused(raw: bytes, key: str) -> None:
    """A key repeated in one object, at any depth, is malformed_json of type duplicate_key naming the key."""
    error = refused(raw)
    assert error.root_cause is RootCause.MALFORMED_JSON
    assert error.type == "duplicate_key"
    assert error.constraint == "unique keys in every object"
    assert repr(key) in error.message


def test_same_key_in_different_objects_is_fine() -> None:
    """The same key in two different objects is not a duplicate."""
    assert parsed(b'{"a": {"a": 1}, "b": [{"a": 2}, {"a": 3}]}').value == {
        "a": {"a": 1},
        "b": [{"a": 2}, {"a": 3}],
    }


@pytest.mark.parametrize(
    "raw",
    [
        b'{"x": ["a", ":", "b"]}',
        b'{"x": ["a", " :", "b"], "y": ":"}',
        b'{"k": "\\": \\"k\\": 1", "j": "{\\"k\\": 2}"}',
        b'{"x": "a\\\\", "y": ":"}',
        b'["k", ":", "k", ":"]',
        b'{"a": "}{][", "b": "\\"a\\": 1"}',
    ],
)
def test_strings_do_not_confuse_the_duplicate_key_guard(raw: bytes) -> None:
    """Colons, quotes, braces and escapes inside strings are never taken for keys."""
    assert isinstance(parse(raw, LIMITS), Parsed)


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (b'{"n": 18446744073709551616}', 18446744073709551616),
        (b'{"n": -18446744073709551617}', -18446744073709551617),
        (b'{"n": 123456789012345678901234567890}', 123456789012345678901234567890),
        (b'{"n": 9223372036854775807}', 9223372036854775807),
        (b'{"n": -9223372036854775808}', -9223372036854775808),
    ],
)
def test_big_integers_are_kept_exact(raw: bytes, value: int) -> None:
    """Integers past 64 bits stay exact Python ints, never floats."""
    result = parsed(raw).value["n"]
    assert type(result) is int
    assert result == value


def test_big_integer_inside_a_nested_structure_is_exact() -> None:
    """A big integer deep in the payload is exact too, and its neighbours keep their types."""
    value = parsed(b'{"a": [1.5, {"b": 340282366920938463463374607431768211457}], "c": 1}').value
    assert value == {"a": [1.5, {"b": 2**128 + 1}], "c": 1}
    assert type(value["a"][0]) is float


def test_long_digit_strings_stay_strings() -> None:
    """A string of many digits is not touched by the big-integer path."""
    assert parsed(b'{"a": "12345678901234567890123"}').value == {"a": "12345678901234567890123"}


def test_numbers_keep_their_json_type() -> None:
    """15.0 stays a float and 15 an int; nothing is normalised."""
    value = parsed(b'{"f": 15.0, "i": 15, "e": 1e2, "z": -0.0}').value
    assert [type(value[key]) for key in ("f", "i", "e", "z")] == [float, int, float, float]


@pytest.mark.parametrize(
    "raw", [b'{"a": NaN}', b'{"a": Infinity}', b'{"a": -Infinity}', b"NaN", b'{"a": 1e400}']
)
def test_non_finite_numbers_are_refused(raw: bytes) -> None:
    """NaN, Infinity and numbers beyond float range are not JSON values and are refused."""
    assert refused(raw).root_cause is RootCause.MALFORMED_JSON


def test_payload_over_max_bytes_is_too_large() -> None:
    """A payload longer than max_bytes is payload_too_large, checked before anything else."""
    error = refused(b"\xff" * 11, Limits(max_bytes=10))
    assert error.root_cause is RootCause.PAYLOAD_TOO_LARGE
    assert error.stage is Stage.TRANSPORT
    assert error.constraint == "size <= 10 bytes"
    assert "11 bytes" in error.message


def test_payload_of_exactly_max_bytes_is_read() -> None:
    """A payload of exactly max_bytes is within the limit."""
    assert parsed(b'{"a": 12}', Limits(max_bytes=9)).value == {"a": 12}


def test_nesting_deeper_than_max_depth_is_refused() -> None:
    """A document nested one level past max_depth is nesting_too_deep."""
    error = refused(nested(6), Limits(max_depth=5))
    assert error.root_cause is RootCause.NESTING_TOO_DEEP
    assert error.stage is Stage.TRANSPORT
    assert error.constraint == "depth <= 5"


def test_nesting_exactly_at_max_depth_is_accepted() -> None:
    """A document nested exactly max_depth levels parses."""
    assert isinstance(parse(nested(5), Limits(max_depth=5)), Parsed)
    assert isinstance(parse(b"[" * 64 + b"]" * 64, LIMITS), Parsed)


def test_arrays_count_towards_depth() -> None:
    """Arrays nest like objects: 65 nested arrays exceed the default limit of 64."""
    assert refused(b"[" * 65 + b"]" * 65).root_cause is RootCause.NESTING_TOO_DEEP


def test_nesting_beyond_the_parser_limit_is_too_deep() -> None:
    """Nesting far past any limit is nesting_too_deep, not a crash or a generic syntax error."""
    assert refused(b"[" * 5000 + b"]" * 5000).root_cause is RootCause.NESTING_TOO_DEEP


def test_brackets_inside_strings_do_not_count_as_depth() -> None:
    """Braces and brackets inside strings do not make a shallow document deep."""
    raw = b'{"a": "' + b"{[" * 100 + b'"}'
    assert parsed(raw, Limits(max_depth=2)).value == {"a": "{[" * 100}


def test_many_shallow_containers_are_not_deep() -> None:
    """Many sibling containers are wide, not deep."""
    raw = b"[" + b",".join([b'{"a": []}'] * 100) + b"]"
    assert isinstance(parse(raw, Limits(max_depth=3)), Parsed)


def test_parsed_keeps_the_decoded_text() -> None:
    """A parsed payload carries its exact text alongside its value."""
    result = parsed(b' {"a" : "\xc3\xa9"} ')
    assert result.text == ' {"a" : "\u00e9"} '
    assert result.value == {"a": "\u00e9"}


def _encoded(text: str) -> bytes:
    """``text`` as UTF-8, lone surrogates included (as a broken producer would send them)."""
    return text.encode("utf-8", errors="surrogatepass")


@given(raw=st.one_of(st.binary(max_size=300), json_ish_text.map(_encoded), batch_bodies))
def test_parse_never_raises_and_is_deterministic(raw: bytes) -> None:
    """Any bytes parse to a value or one explained refusal, never an exception, the same way each time."""
    first, second = parse(raw, LIMITS), parse(raw, LIMITS)
    assert isinstance(first, Parsed | FieldError)
    assert repr(first) == repr(second)


@given(value=json_values)
def test_parse_never_raises_under_tight_limits(value: object) -> None:
    """Limits tighter than the value refuse it with an explained error; nothing raises."""
    raw = json.dumps(value).encode()
    result = parse(raw, Limits(max_bytes=max(1, len(raw) // 2), max_depth=2))
    assert isinstance(result, Parsed | FieldError)
