"""Strict JSON parsing of raw event bytes: RFC 8259, nothing repaired, nothing guessed.

orjson does the work. Three of its conveniences would silently change data, so they are guarded:
integers beyond 64 bits become floats (we re-parse such payloads with the standard library, which keeps
them exact), a number with more digits than a float holds is rounded (the same re-parse finds each one,
and the validator reports it: :mod:`sigma_aetl.core.numbers`), and a repeated key keeps its last value (we
reject the payload as ambiguous instead).
"""

import json
import re
from typing import Any

import orjson

from sigma_aetl.core.decision import FieldError
from sigma_aetl.core.numbers import EXACT_INTEGERS as _EXACT
from sigma_aetl.core.numbers import InexactNumber, may_be_inexact, read_exactly
from sigma_aetl.core.taxonomy import STAGE_OF, RootCause
from sigma_aetl.core.value import value

# Every string token, in order, with the colon that makes it a key. Matching all strings (not only keys) keeps
# the scan aligned on string boundaries, so a value such as ":" is never mistaken for a key.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"\s*(:)?')
_BOM = "\ufeff"
_QUOTE_SPACE = re.compile(r'"[ \t\r\n]')


@value
class Limits:
    """Bounds on one event, checked before anything else."""

    max_bytes: int = 1_048_576
    max_depth: int = 64


@value
class Parsed:
    """A successfully parsed payload: its text and its JSON value."""

    text: str
    value: Any
    inexact: tuple[InexactNumber, ...] = ()
    """The numbers a 64-bit float does not hold as written, in document order (each one an error)."""


def parse(raw: bytes, limits: Limits) -> Parsed | FieldError:
    """Parse ``raw`` as one JSON document, or say exactly why it cannot be."""
    if len(raw) > limits.max_bytes:
        return transport_error(
            RootCause.PAYLOAD_TOO_LARGE,
            "payload_too_large",
            f"The payload is {len(raw)} bytes; the limit is {limits.max_bytes} bytes.",
            constraint=f"size <= {limits.max_bytes} bytes",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return transport_error(
            RootCause.INVALID_ENCODING,
            "invalid_utf8",
            f"Byte 0x{raw[exc.start]:02x} at offset {exc.start} is not valid UTF-8.",
            constraint="UTF-8 (RFC 8259 section 8.1)",
        )
    if text.startswith(_BOM):
        return transport_error(
            RootCause.INVALID_ENCODING,
            "utf8_bom",
            "The payload starts with a byte order mark, which JSON text must not carry.",
            constraint="UTF-8 without a byte order mark (RFC 8259 section 8.1)",
        )
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        return _decode_error(str(exc))
    return _guard(raw, text, value, limits)


def _decode_error(message: str) -> FieldError:
    if "depth limit" in message:
        return transport_error(
            RootCause.NESTING_TOO_DEEP, "nesting_too_deep", "The payload is nested too deeply to parse."
        )
    return transport_error(RootCause.MALFORMED_JSON, "malformed_json", f"Not valid JSON: {message}.")


def _guard(raw: bytes, text: str, value: Any, limits: Limits) -> Parsed | FieldError:
    containers = text.count("{") + text.count("[")
    if containers > limits.max_depth and _depth(value) > limits.max_depth:
        return transport_error(
            RootCause.NESTING_TOO_DEEP,
            "nesting_too_deep",
            f"The payload nests deeper than {limits.max_depth} levels.",
            constraint=f"depth <= {limits.max_depth}",
        )
    keys, numbers = _shape(value)
    if not keys_unique_by_count(text, keys) and _count_key_tokens(text) != keys:
        return _duplicate_key_error(text)
    # An integer orjson widened is a float of 19 digits or more, which may_be_inexact looks for too.
    if numbers and may_be_inexact(raw):
        exact, inexact = read_exactly(text)
        return Parsed(text, exact, inexact)
    return Parsed(text, value)


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in node.values())
        elif isinstance(node, list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in node)
    return deepest


def _shape(value: Any) -> tuple[int, bool]:
    """How many keys the parsed value holds, and whether it holds a number that may not be as sent: a
    float (orjson reads every number with a fraction or an exponent as one, and widens an integer beyond
    64 bits to one), or an integer beyond the floats' exact range (see :mod:`sigma_aetl.core.numbers`)."""
    keys, numbers, stack = 0, False, [value]
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind is dict:
            keys += len(node)
            stack.extend(node.values())
        elif kind is list:
            stack.extend(node)
        elif kind is float or (kind is int and not -_EXACT <= node <= _EXACT):
            numbers = True
    return keys, numbers


def keys_unique_by_count(text: str, keys: int) -> bool:
    """A cheap, sound proof that no object repeats a key; False means "not proven", not "repeated".

    Without JSON whitespace right after a quote, every key token ends in ``":`` , so ``text.count('":')``
    is at least the number of key tokens; when it equals the number of keys parsed, none was lost.
    """
    return text.count('":') == keys and _QUOTE_SPACE.search(text) is None


def _count_key_tokens(text: str) -> int:
    # findall returns the colon group per string, "" for a value: the count stays in C
    return _STRING.findall(text).count(":")


def _duplicate_key_error(text: str) -> FieldError:
    repeated: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for key, _ in items:
            if key in seen and not repeated:
                repeated.append(key)
            seen.add(key)
        return dict(items)

    json.loads(text, object_pairs_hook=pairs)
    key = repeated[0] if repeated else "?"
    return transport_error(
        RootCause.MALFORMED_JSON,
        "duplicate_key",
        f"The key {key!r} appears twice in one object, so the payload is ambiguous.",
        constraint="unique keys in every object",
    )


def transport_error(
    cause: RootCause, kind: str, message: str, *, constraint: str | None = None
) -> FieldError:
    """An error about the payload as a whole (``path`` is empty)."""
    return FieldError(
        path="",
        loc=(),
        type=kind,
        root_cause=cause,
        stage=STAGE_OF[cause],
        message=message,
        constraint=constraint,
        explanation=message,
    )
