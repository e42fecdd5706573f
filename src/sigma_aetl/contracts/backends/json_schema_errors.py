"""Translate jsonschema-rs validation errors into the shared error shape and root-cause taxonomy.

``Required`` → missing_field; ``AdditionalProperties``/``UnevaluatedProperties`` → unexpected_field, one
error per unknown field at the field's own path (a schema-valued ``unevaluatedProperties`` reports each
field's own errors instead); ``Type`` and the strict-integer keyword → type_mismatch; every other keyword
(bounds, lengths, pattern, enum, const, format...) → constraint_violation. An ``anyOf``/``oneOf`` whose
branches all fail on the value's type is a type_mismatch too. The explanations come from
:mod:`sigma_aetl.core.explain`, so an error reads the same whichever backend found it; those of the keywords
that judge by other schemas from :mod:`~sigma_aetl.contracts.backends.json_schema_combinators`. The error
``type`` is the JSON Schema keyword (``required``, ``minLength``...), this backend's own code.
"""

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import jsonschema_rs

from sigma_aetl.contracts.backends.json_schema_combinators import (
    CONDITIONAL,
    alternatives,
    alternatives_explanation,
    because,
    containing,
    defined,
    mistyped,
    negation,
    several_valid,
)
from sigma_aetl.contracts.backends.json_schema_locations import payload_loc
from sigma_aetl.contracts.backends.json_schema_order import FieldOrder, arranged
from sigma_aetl.contracts.backends.json_schema_walk import pointer
from sigma_aetl.contracts.backends.json_schema_words import describe, schema_trail
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
    show,
)
from sigma_aetl.core.taxonomy import RootCause, Stage

STRICT_INTEGER = "x-sigma-strict-integer"
"""Reserved keyword added at compile time: the value must not be a float, even one with a zero fraction."""

_UNEXPECTED = ("additionalProperties", "unevaluatedProperties")

Subschemas = Callable[[Any], jsonschema_rs.Validator | None]
"""A validator for one subschema of the contract's schema (given as written), compiled when first asked."""


@dataclass(frozen=True)
class Scope:
    """What errors are read against: the contract's schema as written, the value validated (the payload,
    or a value inside it at ``base``), and the subschema its validator starts from (None: the root)."""

    schema: Mapping[str, Any]
    value: Any
    subschemas: Subschemas
    base: tuple[LocPart, ...] = ()
    start: Any = None
    explained: set[tuple[LocPart, ...]] = field(default_factory=set)
    """Fields a failed ``anyOf``/``oneOf`` defines: not unknown, though no branch evaluated them."""

    def inside(self, value: Any, base: tuple[LocPart, ...], start: Any) -> "Scope":
        """The scope of a validator run on ``value`` (at ``base``) against the subschema ``start``."""
        return Scope(self.schema, value, self.subschemas, base, start, self.explained)


def to_field_errors(
    errors: Iterable[jsonschema_rs.ValidationError], scope: Scope, order: FieldOrder
) -> list[FieldError]:
    """Every error, one per field problem, wrong-type paths reporting only their type, in field order
    (at every depth, as Pydantic reports them: declared fields in schema order, array items in order)."""
    found = [field_error for error in errors for field_error in _translate(error, scope)]
    return arranged([e for e in found if not _explained(e, scope)], scope.value, order)


def _explained(error: FieldError, scope: Scope) -> bool:
    """An "unevaluated" field that a failed ``anyOf``/``oneOf`` branch defines: that branch's error, already
    reported, is why it went unevaluated; calling it unknown to the contract would be wrong."""
    return error.type == "unevaluatedProperties" and error.loc in scope.explained


class _Found:
    """One jsonschema-rs error, placed in the payload; where it sits in the schema is looked up only for
    the keywords whose words need it (most errors, ``type``, ``required``, bounds, need none)."""

    def __init__(self, error: jsonschema_rs.ValidationError, scope: Scope) -> None:
        self.error = error
        self.scope = scope
        self.path = error.evaluation_path
        self.loc = (*scope.base, *payload_loc(scope.value, error.instance_path, error.instance))

    @functools.cached_property
    def trail(self) -> list[Any]:
        """The schema before each step of the error's evaluation path, then the one it ends at."""
        start = self.scope.schema if self.scope.start is None else self.scope.start
        return schema_trail(self.scope.schema, start, self.path)

    @property
    def location(self) -> str:
        """The evaluation path up to the keyword's own schema, as a JSON Pointer (``/properties/kind``)."""
        return pointer(*self.path[:-1])

    @property
    def owner(self) -> Any:
        """The schema holding the keyword that failed."""
        return self.trail[-2] if len(self.trail) > 1 else None


def _translate(error: jsonschema_rs.ValidationError, scope: Scope) -> list[FieldError]:
    found = _Found(error, scope)
    errors = _by_keyword(found, scope)
    if CONDITIONAL.isdisjoint(found.path):
        return errors
    reason = because(found.path, found.trail, error.instance, (found.loc, len(scope.base)), scope.schema)
    return [replace(e, explanation=f"{e.explanation} {reason}") for e in errors] if reason else errors


def _by_keyword(found: _Found, scope: Scope) -> list[FieldError]:
    error, loc = found.error, found.loc
    keyword = error.kind.name
    if keyword in ("anyOf", "oneOf"):
        branch = _nullable_branch(error)
        if branch is not None:
            return [field_error for inner in branch for field_error in _translate(inner, scope)]
        return [_alternatives(found, scope)]
    if keyword == "required":
        return [_missing(error, (*loc, error.kind.as_dict()["property"]))]
    if keyword == "unevaluatedProperties" and isinstance(_keyword_value(found, keyword), Mapping):
        return _unevaluated_values(found, scope)
    if keyword in _UNEXPECTED:
        names = error.kind.as_dict()["unexpected"]
        return [_unexpected(error, (*loc, name), keyword) for name in names]
    if keyword == "falseSchema" and _names_a_field(found):
        return [_forbidden(found)]
    mistyped = keyword == "type" or _strict_integer(error)
    expected = expectation(error) if keyword in _PLAIN else _special(found, scope) or expectation(error)
    return [
        _build(
            loc,
            kind="type" if mistyped else keyword,
            cause=RootCause.TYPE_MISMATCH if mistyped else RootCause.CONSTRAINT_VIOLATION,
            message=error.message if keyword in _PLAIN else _sentence(expected),
            constraint=expected.removeprefix("a value ") if keyword in _PLAIN else expected,
            explanation=explain_expected(format_path(loc), expected, _received(found)),
        )
    ]


_PLAIN = frozenset(
    {
        *(
            "type",
            "custom",
            "format",
            "multipleOf",
            "pattern",
            "enum",
            "const",
            "uniqueItems",
            *BOUND_SYMBOLS,
        ),
        *("minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties"),
    }
)
"""Keywords whose jsonschema-rs message shows no subschema: kept as the error's message."""


def _special(found: _Found, scope: Scope) -> str | None:
    """What ``not``, ``contains``, ``propertyNames``, a ``false`` schema and ``unevaluatedItems`` ask for."""
    keyword, owner, schema = found.error.kind.name, found.owner, scope.schema
    if keyword == "not" and isinstance(owner, Mapping):
        return negation(owner, found.location, schema)
    if keyword == "contains" and isinstance(owner, Mapping):
        return containing(owner, found.location, schema, str(found.error.evaluation_path[-1]))
    if keyword == "propertyNames":
        return "field names that are " + _names_schema(found, schema)
    if keyword == "falseSchema":
        return "no value here (its schema is false)"
    if keyword == "unevaluatedItems":
        return "no items beyond the ones the schema describes (unevaluatedItems)"
    return None


def _names_schema(found: _Found, schema: Mapping[str, Any]) -> str:
    """The ``propertyNames`` subschema in words (its error comes from inside it: the path goes on)."""
    path = list(found.error.evaluation_path)
    at = max((i for i, step in enumerate(path) if step == "propertyNames"), default=len(path) - 1)
    return describe(schema, found.trail[at + 1], pointer(*path[: at + 1]))


def _received(found: _Found) -> Any:
    """What arrived: the value, or for ``propertyNames`` the field name that broke it."""
    if found.error.kind.name == "propertyNames":
        inner = found.error.kind.as_dict().get("error")
        return getattr(inner, "instance", found.error.instance)
    return found.error.instance


def _sentence(words: str) -> str:
    return f"Expected {words}"


def _alternatives(found: _Found, scope: Scope) -> FieldError:
    """One error for an ``anyOf``/``oneOf`` that failed, naming each branch's errors, best match first."""
    error, loc = found.error, found.loc
    keyword = error.kind.name
    owner = found.owner if isinstance(found.owner, Mapping) else {}
    branches = [
        [field_error for inner in branch for field_error in _translate(inner, scope)]
        for branch in error.kind.as_dict().get("context") or []
    ]
    expected = alternatives(keyword, owner, found.location, scope.schema)
    scope.explained.update((*loc, name) for name in defined(owner.get(keyword), scope.schema))
    where = format_path(loc) or "payload"
    several = isinstance(error.kind, jsonschema_rs.ValidationErrorKind.OneOfMultipleValid)
    return _build(
        loc,
        kind=keyword,
        cause=RootCause.TYPE_MISMATCH
        if not several and mistyped(branches, loc)
        else RootCause.CONSTRAINT_VIOLATION,
        message=_sentence(expected),
        constraint=expected,
        explanation=(
            several_valid(where, expected, error.instance, branches)
            if several
            else alternatives_explanation(where, expected, error.instance, branches, loc)
        ),
    )


def _keyword_value(found: _Found, keyword: str) -> Any:
    return found.owner.get(keyword) if isinstance(found.owner, Mapping) else None


def _unevaluated_values(found: _Found, scope: Scope) -> list[FieldError]:
    """A schema-valued ``unevaluatedProperties``: each property's own errors against that schema."""
    error, loc = found.error, found.loc
    subschema = _keyword_value(found, "unevaluatedProperties")
    validator = scope.subschemas(subschema)
    instance = error.instance if isinstance(error.instance, Mapping) else {}
    errors: list[FieldError] = []
    for name in error.kind.as_dict()["unexpected"]:
        value = instance.get(name)
        inner = list(validator.iter_errors(value)) if validator is not None else []
        if not inner:
            errors.append(_unexpected(error, (*loc, name), "unevaluatedProperties"))
        inside = scope.inside(value, (*loc, name), subschema)
        errors.extend(field_error for e in inner for field_error in _translate(e, inside))
    return errors


def _names_a_field(found: _Found) -> bool:
    """Whether a ``false`` schema stands for a field (``properties: {"x": false}``)."""
    path = found.error.evaluation_path
    if len(path) >= 2 and path[-2] in ("properties", "patternProperties"):
        return True
    return bool(path) and path[-1] in _UNEXPECTED


def _forbidden(found: _Found) -> FieldError:
    loc = found.loc
    return _build(
        loc,
        kind="falseSchema",
        cause=RootCause.UNEXPECTED_FIELD,
        message="The schema forbids this field",
        constraint="no such field (its schema is false)",
        explanation=f"{format_path(loc) or 'payload'}: not allowed (its schema is false); "
        f"received {show(found.error.instance)}.",
    )


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
