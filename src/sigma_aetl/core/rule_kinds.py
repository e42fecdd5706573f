"""What a business rule compares: the kind of each field it reads, read from the contract's JSON Schema.

A rule on timestamps must compare instants, not strings: ``"10:30:00+05:00"`` is 05:30 UTC, earlier than
``"10:00:00Z"``, though it sorts after it as text. A field whose schema is a string with
``format: date-time`` (Pydantic's ``datetime``, JSON Schema's own) is an *instant*: its values, and a rule's
constant for it, are read as RFC 3339 date-times and compared with their offsets applied. ``format: date``
is a *date*. Other fields compare as the JSON values they are (numbers as numbers, strings as strings).

Both backends describe their fields in JSON Schema, so their twins get the same kinds. What cannot work is
refused when the contract loads (``Contract`` checks its rules with :func:`kind_problems`): a rule
comparing an instant with a date, or a constant that is not a value of the field's kind (including an
instant without its UTC offset).
"""

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any, Literal

Kind = Literal["instant", "date"]
_FORMATS: dict[str, Kind] = {"date-time": "instant", "date": "date"}
_WORDS: dict[Kind, str] = {"instant": "an instant (RFC 3339 date-time)", "date": "a date (YYYY-MM-DD)"}


class Uncomparable:
    """A value that is not of its field's kind (the schema let it through, so it fails the rule)."""


UNCOMPARABLE = Uncomparable()


def field_kinds(schema: Mapping[str, Any], paths: Iterable[str]) -> dict[str, Kind]:
    """The kind of each dotted ``path`` in ``schema`` that is an instant or a date."""
    kinds: dict[str, Kind] = {}
    for path in paths:
        node = _property(schema, path)
        kind = _kind(schema, node) if node is not None else None
        if kind is not None:
            kinds[path] = kind
    return kinds


def typed(value: Any, kind: Kind) -> Any:
    """``value`` read as its kind: a datetime or a date; UNCOMPARABLE when it is not one."""
    if not isinstance(value, str):
        return UNCOMPARABLE
    try:
        return datetime.fromisoformat(value) if kind == "instant" else date.fromisoformat(value)
    except ValueError:
        return UNCOMPARABLE


def kind_problems(
    name: str, field: str, kind: Kind | None, other: tuple[str, Kind | None] | None, constants: list[Any]
) -> list[str]:
    """Why rule ``name`` on ``field`` (of ``kind``) cannot work: against ``other`` (a field and its kind),
    or against ``constants``; empty when it can."""
    if other is not None:
        other_field, other_kind = other
        if kind == other_kind or not (kind or other_kind):
            return []
        return [
            f"rule {name} compares {field} ({_word(kind)}) with {other_field} ({_word(other_kind)}); "
            "a rule compares values of one kind"
        ]
    return [problem for constant in constants if (problem := _constant_problem(name, field, kind, constant))]


def _constant_problem(name: str, field: str, kind: Kind | None, constant: Any) -> str | None:
    if kind is None:
        return None
    value = typed(constant, kind)
    if value is UNCOMPARABLE:
        return f"rule {name}: {constant!r} is not {_WORDS[kind]}, the kind of {field}"
    if isinstance(value, datetime) and value.tzinfo is None:
        return f"rule {name}: {constant!r} has no UTC offset; an instant needs one (add Z or +HH:MM)"
    return None


def _word(kind: Kind | None) -> str:
    return _WORDS[kind] if kind is not None else "not a date or an instant"


def _property(schema: Mapping[str, Any], path: str) -> Mapping[str, Any] | None:
    node: Mapping[str, Any] | None = schema
    for part in path.split("."):
        node = _resolve(schema, node) if node is not None else None
        properties = node.get("properties") if node is not None else None
        node = properties.get(part) if isinstance(properties, Mapping) else None
    return _resolve(schema, node) if node is not None else None


def _resolve(schema: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    """Follow a local ``$ref`` (``#/$defs/Item``), as Pydantic writes nested models."""
    ref = node.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return node
    target: Any = schema
    for part in ref[2:].split("/"):
        target = (
            target.get(part.replace("~1", "/").replace("~0", "~")) if isinstance(target, Mapping) else None
        )
    return target if isinstance(target, Mapping) else node


def _kind(schema: Mapping[str, Any], node: Mapping[str, Any]) -> Kind | None:
    node = _resolve(schema, node)
    if node.get("type") == "string" and node.get("format") in _FORMATS:
        return _FORMATS[node["format"]]
    branches = node.get("anyOf") or node.get("oneOf")
    if isinstance(branches, list):  # an optional field: the kind of its one non-null branch
        kinds = {_kind(schema, b) for b in branches if isinstance(b, Mapping) and b.get("type") != "null"}
        if len(kinds) == 1:
            return kinds.pop()
    return None
