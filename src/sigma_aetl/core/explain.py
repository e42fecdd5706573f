"""Deterministic, human-readable explanations: what was expected, and what arrived.

Shared by every validator backend, so the same problem reads the same whichever backend found it, and by
the evolution tooling: :func:`constraint_words` is the one place a constraint is put into words, for an
error's ``constraint`` and explanation, a field's summary and a compatibility finding alike.
"""

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sigma_aetl.core.canonical import canonical_bytes

_MAX_SHOWN = 60


def format_path(loc: Sequence[str | int]) -> str:
    """``("items", 2, "sku")`` → ``items[2].sku``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


TYPE_WORDS = {  # each JSON type as an expectation, in the order several are named: null last
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "object": "an object",
    "array": "an array",
    "null": "null",
}


def json_type_phrase(value: Any) -> str:
    """The JSON type of a value with its article: ``an array``, ``a string``, ``null``."""
    return "null" if value is None else _with_article(json_type(value))


def json_type(value: Any) -> str:
    """The JSON type name of a parsed value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def show(value: Any) -> str:
    """Compact JSON of ``value`` with its type, shortened past 60 characters: ``"2" (a string)``."""
    text = canonical_bytes(value).decode("utf-8")
    if len(text) > _MAX_SHOWN:
        text = text[: _MAX_SHOWN - 3] + "..."
    if value is None:
        return "null"
    return f"{text} ({_with_article(json_type(value))})"


def _with_article(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def explain_missing(path: str) -> str:
    """Explanation of a required field that is absent."""
    return f"{path}: required, but the field is missing."


def explain_unexpected(path: str, received: Any) -> str:
    """Explanation of a field the contract does not define."""
    return (
        f"{path}: not a field of this contract (unknown fields are not allowed); received {show(received)}."
    )


def explain_expected(path: str, expected: str, received: Any) -> str:
    """Explanation of a value that does not meet what the contract expects."""
    where = path or "payload"
    return f"{where}: expected {expected}, received {show(received)}."


def repr_json(value: Any) -> str:
    """A short JSON-like rendering of a constant, for messages: ``"a"``, ``true``, ``null``, ``[1, 2]``."""
    if isinstance(value, str):
        return f'"{value}"'
    if value is True or value is False:
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, list | dict):  # str() would print Python's ['x'] and True
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def as_written(value: Any) -> Any:
    """A number as a contract writes it: ``0`` rather than ``0.0`` (backends report float bounds), and a
    Decimal bound as the JSON number it states."""
    if isinstance(value, Decimal):
        value = float(value) if value != value.to_integral_value() else int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def decimal_places(step: Any) -> int | None:
    """``N`` when ``step`` (a ``multipleOf``) is 10^-N, N >= 1 (``0.01`` → 2): "at most N decimal places"."""
    if isinstance(step, bool) or not isinstance(step, int | float | Decimal) or step <= 0 or step >= 1:
        return None
    exact = Decimal(repr(step)) if isinstance(step, float) else Decimal(step)
    places = -exact.normalize().as_tuple().exponent  # type: ignore[operator]
    return places if exact == Decimal(1).scaleb(-places) else None


BOUND_SYMBOLS = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<=", "exclusiveMaximum": "<"}
"""The JSON Schema bound keywords and the comparison each states."""

_SIZE_WORDS = {
    "minLength": "at least {} character(s)",
    "maxLength": "at most {} character(s)",
    "minItems": "at least {} item(s)",
    "maxItems": "at most {} item(s)",
    "minProperties": "at least {} field(s)",
    "maxProperties": "at most {} field(s)",
}


def constraint_words(keyword: str, value: Any) -> str:
    """One constraint, named by its JSON Schema keyword, in words: ``>= 1``, ``at most 64 character(s)``,
    ``one of "a", "b"``, ``matching ^S-``."""
    if keyword in BOUND_SYMBOLS:
        return f"{BOUND_SYMBOLS[keyword]} {repr_json(value)}"
    if keyword in _SIZE_WORDS:
        return _SIZE_WORDS[keyword].format(value)
    if keyword == "enum" and isinstance(value, list):
        return "one of " + ", ".join(repr_json(option) for option in value)
    if keyword == "const":
        return "exactly " + repr_json(value)
    if keyword == "pattern":
        return f"matching {value}"
    if keyword == "format":
        return f"{value} format"
    if keyword == "multipleOf":
        places = decimal_places(value)
        if places is not None:
            return f"at most {places} decimal place(s)"
        return f"a multiple of {repr_json(as_written(value))}"
    if keyword == "uniqueItems":
        return "unique items" if value else "items may repeat"
    return f"{keyword} {repr_json(value)}"


def expected_words(keyword: str, value: Any) -> str:
    """What a value must be to meet a constraint: ``a value > 0``, ``at least 1 character(s)``,
    ``a string matching ^S-``, ``a string in date format``."""
    words = constraint_words(keyword, value)
    if keyword in BOUND_SYMBOLS:
        return f"a value {words}"
    if keyword == "format":
        return f"a string in {words}"
    if keyword == "pattern":
        return f"a string {words}"
    if keyword == "multipleOf" and decimal_places(value) is not None:
        return f"a number with {words}"
    return words
