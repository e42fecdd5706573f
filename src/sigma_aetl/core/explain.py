"""Deterministic, human-readable explanations: what was expected, and what arrived.

Shared by every validator backend, so the same problem reads the same whichever backend found it.
"""

from collections.abc import Sequence
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
