"""Translate jsonschema-rs validation errors into the shared error shape and root-cause taxonomy.

``Required`` → missing_field; ``AdditionalProperties``/``UnevaluatedProperties`` → unexpected_field, one
error per unknown field at the field's own path; ``Type`` and the strict-integer keyword → type_mismatch;
every other keyword (bounds, lengths, pattern, enum, const, format...) → constraint_violation. The
explanations come from :mod:`sigma_aetl.core.explain`, so an error reads the same whichever backend found it.
The error ``type`` is the JSON Schema keyword (``required``, ``minLength``...), this backend's own code.
"""

from collections.abc import Iterable, Sequence
from typing import Any

import jsonschema_rs

from sigma_aetl.core.decision import FieldError, LocPart
from sigma_aetl.core.explain import (
    BOUND_SYMBOLS,
    as_written,
    expected_words,
    explain_expected,
    explain_missing,
    explain_unexpected,
    format_path,
)
from sigma_aetl.core.taxonomy import RootCause, Stage

STRICT_INTEGER = "x-sigma-strict-integer"
"""Reserved keyword added at compile time: the value must not be a float, even one with a zero fraction."""

TYPE_WORDS = {  # in the order types are named when several are expected: null last
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "object": "an object",
    "array": "an array",
    "null": "null",
}

_UNEXPECTED = ("additionalProperties", "unevaluatedProperties")


def to_field_errors(
    errors: Iterable[jsonschema_rs.ValidationError], value: Any, order: Sequence[str]
) -> list[FieldError]:
    """Every error, one per field problem, wrong-type paths reporting only their type, in field order."""
    found: list[FieldError] = []
    for error in errors:
        found.extend(_translate(error))
    mistyped = {e.path for e in found if e.root_cause is RootCause.TYPE_MISMATCH}
    kept = [e for e in found if e.root_cause is RootCause.TYPE_MISMATCH or e.path not in mistyped]
    unique = list(dict.fromkeys(kept))
    return sorted(unique, key=_field_rank(order, value))


def _field_rank(order: Sequence[str], value: Any) -> Any:
    """Declared fields in schema order, then unknown ones in payload order (as Pydantic reports them)."""
    declared = {name: rank for rank, name in enumerate(order)}
    arrived = {name: rank for rank, name in enumerate(value)} if isinstance(value, dict) else {}

    def rank(error: FieldError) -> int:
        head = error.loc[0] if error.loc else ""
        if head in declared:
            return declared[str(head)]
        return len(declared) + arrived.get(str(head), -1)

    return rank


def _translate(error: jsonschema_rs.ValidationError) -> list[FieldError]:
    keyword = error.kind.name
    loc = tuple(error.instance_path)
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
