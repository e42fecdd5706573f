"""Translate jsonschema-rs validation errors into the shared error shape and root-cause taxonomy.

``Required`` → missing_field; ``AdditionalProperties``/``UnevaluatedProperties`` → unexpected_field, one
error per unknown field at the field's own path; ``Type`` and the strict-integer keyword → type_mismatch;
every other keyword (bounds, lengths, pattern, enum, const, format...) → constraint_violation. The
explanations come from :mod:`sigma_aetl.core.explain`, so an error reads the same whichever backend found it.
The error ``type`` is the JSON Schema keyword (``required``, ``minLength``...), this backend's own code.
"""

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import jsonschema_rs

from sigma_aetl.core.decision import FieldError, LocPart
from sigma_aetl.core.explain import (
    BOUND_SYMBOLS,
    TYPE_WORDS,
    as_written,
    expected_words,
    explain_expected,
    explain_missing,
    explain_unexpected,
    format_path,
)
from sigma_aetl.core.paths import EVERY, Step
from sigma_aetl.core.rule_kinds import field_node, resolve_ref
from sigma_aetl.core.taxonomy import RootCause, Stage

STRICT_INTEGER = "x-sigma-strict-integer"
"""Reserved keyword added at compile time: the value must not be a float, even one with a zero fraction."""


_UNEXPECTED = ("additionalProperties", "unevaluatedProperties")


class FieldOrder:
    """The declared fields of each object in a schema, in schema order, looked up once per object."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self._schema = schema
        self._known: dict[tuple[Step, ...], dict[str, int]] = {}

    def declared(self, steps: tuple[Step, ...]) -> dict[str, int]:
        """Each field name of the object at ``steps`` with its rank."""
        found = self._known.get(steps)
        if found is None:
            found = {name: rank for rank, name in enumerate(_declared_fields(self._schema, steps))}
            self._known[steps] = found
        return found


def to_field_errors(
    errors: Iterable[jsonschema_rs.ValidationError], value: Any, order: FieldOrder
) -> list[FieldError]:
    """Every error, one per field problem, wrong-type paths reporting only their type, in field order
    (at every depth, as Pydantic reports them: declared fields in schema order, array items in order)."""
    found: list[FieldError] = []
    for error in errors:
        found.extend(_translate(error, value))
    mistyped = {e.path for e in found if e.root_cause is RootCause.TYPE_MISMATCH}
    kept = [e for e in found if e.root_cause is RootCause.TYPE_MISMATCH or e.path not in mistyped]
    unique = _as_pydantic_sizes(_first_constraint(list(dict.fromkeys(kept))))
    return sorted(unique, key=lambda error: _rank(error.loc, value, order))


_CHECK_ORDER = {
    keyword: rank
    for rank, keyword in enumerate(
        [
            *("format", "multipleOf", "minLength", "maxLength", "minItems", "maxItems", "minimum"),
            *("exclusiveMinimum", "maximum", "exclusiveMaximum", "pattern", "enum", "const"),
        ]
    )
}
"""The order a value's constraints are checked in, Pydantic's: the first one broken is the one reported."""


def _first_constraint(errors: list[FieldError]) -> list[FieldError]:
    """One constraint violation per path, as Pydantic reports a value: ``-0.125`` for a decimal ``> 0``
    with two places is "at most 2 decimal place(s)" only."""
    first: dict[str, FieldError] = {}
    for error in errors:
        if error.root_cause is RootCause.CONSTRAINT_VIOLATION:
            held = first.get(error.path)
            if held is None or _CHECK_ORDER.get(error.type, 99) < _CHECK_ORDER.get(held.type, 99):
                first[error.path] = error
    return [e for e in errors if e.root_cause is not RootCause.CONSTRAINT_VIOLATION or first[e.path] is e]


def _as_pydantic_sizes(errors: list[FieldError]) -> list[FieldError]:
    """Sizes reported as Pydantic reports them: an array over ``maxItems`` only says so (its items are not
    read); an array under ``minItems``, or an object out of its size bounds, whose entries have errors
    reports the entries only."""
    too_long = {e.loc for e in errors if e.type == "maxItems"}
    inside = {e.loc[:depth] for e in errors for depth in range(len(e.loc))}
    kept = []
    for error in errors:
        if any(error.loc[:depth] in too_long for depth in range(len(error.loc))):
            continue
        if error.type in ("minItems", "minProperties", "maxProperties") and error.loc in inside:
            continue
        kept.append(error)
    return kept


def _rank(loc: Sequence[LocPart], value: Any, order: FieldOrder) -> tuple[int, ...]:
    """At each step: an array index as it is; a declared field by its place in the schema, then unknown
    fields in payload order."""
    ranks: list[int] = []
    steps: list[Step] = []
    node: Any = value
    for part in loc:
        if isinstance(part, int):
            ranks.append(part)
            steps.append(EVERY)
            node = node[part] if isinstance(node, list) and part < len(node) else None
            continue
        declared = order.declared(tuple(steps))
        if part in declared:
            ranks.append(declared[part])
        else:
            arrived = list(node) if isinstance(node, dict) else []
            ranks.append(len(declared) + (arrived.index(part) if part in arrived else -1))
        steps.append(part)
        node = node.get(part) if isinstance(node, dict) else None
    return tuple(ranks)


def _declared_fields(schema: Mapping[str, Any], steps: tuple[Step, ...]) -> list[str]:
    node = field_node(schema, steps)
    found: list[str] = []
    for branch in [node, *((node or {}).get("anyOf") or [])]:
        if isinstance(branch, Mapping):
            target = resolve_ref(schema, branch)
            found.extend(name for name in target.get("properties") or {} if name not in found)
    return found


def _translate(error: jsonschema_rs.ValidationError, value: Any) -> list[FieldError]:
    keyword = error.kind.name
    loc = _payload_loc(value, error.instance_path, error.instance)
    if keyword in ("anyOf", "oneOf"):
        branch = _nullable_branch(error)
        if branch is not None:
            return [found for inner in branch for found in _translate(inner, value)]
    if keyword == "required":
        return [_missing(error, (*loc, error.kind.as_dict()["property"]))]
    if keyword in _UNEXPECTED:
        names = error.kind.as_dict()["unexpected"]
        return [_unexpected(error, (*loc, name), keyword) for name in names]
    mistyped = keyword == "type" or _strict_integer(error)
    expected = expectation(error)
    return [
        _build(
            loc,
            kind="type" if mistyped else keyword,
            cause=RootCause.TYPE_MISMATCH if mistyped else RootCause.CONSTRAINT_VIOLATION,
            message=error.message,
            constraint=expected.removeprefix("a value "),
            explanation=explain_expected(format_path(loc), expected, error.instance),
        )
    ]


def _payload_loc(value: Any, path: Sequence[LocPart], instance: Any = None) -> tuple[LocPart, ...]:
    """The error's location with each step typed by the payload. jsonschema-rs gives an object key that
    reads as a number as that number (``"0"``, ``"00"`` and ``"+0"`` all become ``0``); in the shared
    notation a key is the name sent (``scores.00``), an index a number. When two keys of one object read
    as the same number, the one holding the erring value (``instance``) is the step."""
    found = _locations(value, path, ())
    first = next(found, None)
    if first is None:
        return tuple(path)
    second = next(found, None)
    if second is None:
        return first
    return next((loc for loc in (first, second, *found) if _at(value, loc) == instance), first)


def _locations(
    node: Any, path: Sequence[LocPart], done: tuple[LocPart, ...]
) -> Iterator[tuple[LocPart, ...]]:
    if not path:
        yield done
        return
    part, rest = path[0], path[1:]
    if isinstance(node, list) and isinstance(part, int) and part < len(node):
        yield from _locations(node[part], rest, (*done, part))
    elif isinstance(node, dict):
        keys = [str(part)] if isinstance(part, str) else [k for k in node if _reads_as(k, part)]
        for key in keys:
            yield from _locations(node.get(key), rest, (*done, key))
    else:
        yield (*done, *path)


def _reads_as(key: str, index: int) -> bool:
    """Whether jsonschema-rs reports the object key ``key`` as the number ``index``."""
    digits = key.removeprefix("+")
    return digits.isascii() and digits.isdigit() and int(digits) == index


def _at(value: Any, loc: Sequence[LocPart]) -> Any:
    for part in loc:
        if isinstance(value, dict):
            value = value.get(part)
        else:
            inside = isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value)
            value = value[part] if inside else None
    return value


def _nullable_branch(error: jsonschema_rs.ValidationError) -> list[jsonschema_rs.ValidationError] | None:
    """The errors of the one branch that is not ``{"type": "null"}``, when a nullable field (``anyOf``
    with null, Pydantic's ``X | None``) holds a value that is not null: what the value failed is that
    branch, as Pydantic reports it."""
    branches = error.kind.as_dict().get("context") or []
    others = [branch for branch in branches if not _only_not_null(branch)]
    return others[0] if len(others) == 1 and len(branches) == 2 and error.instance is not None else None


def _only_not_null(branch: list[jsonschema_rs.ValidationError]) -> bool:
    return (
        len(branch) == 1 and branch[0].kind.name == "type" and branch[0].kind.as_dict()["types"] == ["null"]
    )


def _missing(error: jsonschema_rs.ValidationError, loc: tuple[LocPart, ...]) -> FieldError:
    explanation = explain_missing(format_path(loc))
    return _build(
        loc,
        kind="required",
        cause=RootCause.MISSING_FIELD,
        message=error.message,
        constraint="required",
        explanation=explanation,
    )


def _unexpected(error: jsonschema_rs.ValidationError, loc: tuple[LocPart, ...], keyword: str) -> FieldError:
    name = str(loc[-1])
    received = error.instance.get(name) if isinstance(error.instance, dict) else None
    return _build(
        loc,
        kind=keyword,
        cause=RootCause.UNEXPECTED_FIELD,
        message=f"Additional properties are not allowed ({name!r} was unexpected)",
        constraint="no unknown fields",
        explanation=explain_unexpected(format_path(loc), received),
    )


def _build(
    loc: tuple[LocPart, ...], *, kind: str, cause: RootCause, message: str, constraint: str, explanation: str
) -> FieldError:
    return FieldError(
        path=format_path(loc),
        loc=loc,
        type=kind,
        root_cause=cause,
        stage=Stage.SCHEMA,
        message=message,
        constraint=constraint,
        explanation=explanation,
    )


def expectation(error: jsonschema_rs.ValidationError) -> str:
    """What the schema expected, in words: ``a value > 0``, ``an integer``, ``at least 1 character(s)``."""
    keyword = error.kind.name
    ctx = error.kind.as_dict()
    if keyword == "type":
        names = sorted(
            ctx["types"], key=lambda name: list(TYPE_WORDS).index(name) if name in TYPE_WORDS else 99
        )
        return " or ".join(TYPE_WORDS.get(name, name) for name in names)
    if _strict_integer(error):
        return "an integer"
    if keyword in BOUND_SYMBOLS:
        return expected_words(keyword, as_written(ctx["limit"]))
    return _words(keyword, ctx, error.message)


_VALUE_OF = {
    "minLength": "limit",
    "maxLength": "limit",
    "minItems": "limit",
    "maxItems": "limit",
    "minProperties": "limit",
    "maxProperties": "limit",
    "pattern": "pattern",
    "format": "format",
    "multipleOf": "multiple_of",
    "enum": "options",
    "const": "expected_value",
}
"""Where jsonschema-rs puts each keyword's constraint in an error's context."""


def _words(keyword: str, ctx: dict[str, Any], message: str) -> str:
    if keyword == "uniqueItems":
        return expected_words(keyword, True)
    if keyword in _VALUE_OF:
        return expected_words(keyword, ctx[_VALUE_OF[keyword]])
    return message[0].lower() + message[1:] if message else keyword


def _strict_integer(error: jsonschema_rs.ValidationError) -> bool:
    kind = error.kind
    return isinstance(kind, jsonschema_rs.ValidationErrorKind.Custom) and kind.keyword == STRICT_INTEGER
