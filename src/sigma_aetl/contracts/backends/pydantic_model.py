"""The Pydantic validator backend: a contract is a Pydantic model plus declarative rules.

Models are strict by default (:class:`ContractModel`): no coercion, unknown fields rejected. Validation runs
in Pydantic's JSON mode, so JSON types map one to one (an RFC 3339 string is a datetime, ``"2"`` is not an
integer, ``true`` is not a number). The model only checks: the accepted record keeps the values as sent.
"""

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import ErrorDetails

from sigma_aetl.contracts.backends.pydantic_types import (
    ContractJsonSchema,
    contract_validator,
    decimal_problems,
)
from sigma_aetl.core.contract import Contract, SchemaCheck, UnknownFields
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
from sigma_aetl.core.rules import Rule
from sigma_aetl.core.taxonomy import RootCause, Stage
from sigma_aetl.errors import ContractLoadError

_ABSENT: Any = object()


class ContractModel(BaseModel):
    """Base class for contract models: strict types, unknown fields rejected, immutable."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


def pydantic_contract(
    *,
    name: str,
    version: int,
    model: type[BaseModel],
    identity: Sequence[str] = (),
    rules: Sequence[Rule] = (),
    description: str = "",
    unknown_fields: UnknownFields = "forbid",
) -> Contract:
    """Define a contract version from a Pydantic model; used at the bottom of a contract file.
    ``unknown_fields="ignore"`` leaves undeclared top-level fields out of the record instead of failing."""
    extra = model.model_config.get("extra") or "ignore"
    if extra == "ignore":
        raise ContractLoadError(
            f"{name}@{version}: the model must set extra='forbid' (the default of ContractModel) or "
            "extra='allow'; silently ignoring unknown fields is not a contract"
        )
    _check_fields(name, version, model, identity)
    _check_strict_and_closed(f"{name}@{version}", model)
    _check_statable(f"{name}@{version}", model)
    return Contract(
        name=name,
        version=version,
        backend="pydantic",
        description=description or (model.__doc__ or "").strip(),
        identity=tuple(identity),
        rules=tuple(rules),
        allow_extra=extra == "allow",
        json_schema=model.model_json_schema(schema_generator=ContractJsonSchema),
        check=_checker(model),
        unknown_fields=unknown_fields,
    )


def _check_fields(name: str, version: int, model: type[BaseModel], identity: Sequence[str]) -> None:
    known = set(model.model_fields)
    for field in identity:  # rule paths, nested ones too, are checked by Contract against the schema
        if field not in known:
            raise ContractLoadError(f"{name}@{version}: {field!r} is not a field of {model.__name__}")


_CLOSED = ("forbid", "allow")  # "allow" is a statement the contract makes; only "ignore" drops data silently


def _check_strict_and_closed(ref: str, model: type[BaseModel]) -> None:
    """Refuse a model any of whose parts (the model itself, a nested model, a list item's or a union
    member's model, a dataclass or TypedDict) would coerce values or drop unknown fields: Pydantic applies
    a model's ``strict`` and ``extra`` to its own fields only, so a plain ``BaseModel`` inside a
    ``ContractModel`` would accept ``"2"`` for an integer and silently ignore ``{"colour": "red"}``."""
    for kind, owner, config in _typed_parts(model.__pydantic_core_schema__):
        if config.get("strict") is not True or config.get("extra_fields_behavior") not in _CLOSED:
            where = owner.__name__ if owner is not model else f"{model.__name__} itself"
            raise ContractLoadError(
                f"{ref}: {where} ({kind} used by {model.__name__}) is not strict and closed, so it "
                'would coerce values ("2" as 2) and drop unknown fields. Derive it from ContractModel, or '
                "give it model_config = ConfigDict(strict=True, extra='forbid')."
            )


def _check_statable(ref: str, model: type[BaseModel]) -> None:
    """Refuse what the contract's JSON Schema cannot state: its twin, its fingerprint and ``contracts
    check`` would all say less than the model decides."""
    problems = decimal_problems(model.__pydantic_core_schema__)
    if problems:
        raise ContractLoadError(f"{ref}: {model.__name__} uses " + "; ".join(dict.fromkeys(problems)))


def _typed_parts(node: Any) -> list[tuple[str, type, dict[str, Any]]]:
    """Every model, dataclass and TypedDict in a core schema, with its class and config."""
    found: list[tuple[str, type, dict[str, Any]]] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("type") in ("model", "dataclass", "typed-dict") and "cls" in item:
                found.append((item["type"], item["cls"], item.get("config") or {}))
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return found


def _checker(model: type[BaseModel]) -> SchemaCheck:
    validate = contract_validator(model.__pydantic_core_schema__)

    def check(text: str, value: Any) -> list[FieldError]:
        try:
            validate(text)
        except ValidationError as exc:
            return [to_field_error(error, value) for error in exc.errors(include_url=False)]
        return []

    return check


def to_field_error(error: ErrorDetails, payload: Any = _ABSENT) -> FieldError:
    """Translate one Pydantic error into the shared error shape; ``payload`` (the parsed event) gives the
    value as received, where Pydantic's ``input`` may be what a validator made of it (a Decimal)."""
    loc = tuple(error["loc"])
    path = format_path(loc)
    kind = error["type"]
    cause = classify(kind)
    received = _received(payload, loc, error.get("input"))
    if cause is RootCause.MISSING_FIELD:
        constraint, explanation = "required", explain_missing(path)
    elif cause is RootCause.UNEXPECTED_FIELD:
        constraint, explanation = "no unknown fields", explain_unexpected(path, received)
    else:
        expected = expectation(kind, error.get("ctx") or {}, error["msg"])
        constraint = expected.removeprefix("a value ")
        explanation = explain_expected(path, expected, received)
    return FieldError(
        path=path,
        loc=loc,
        type=kind,
        root_cause=cause,
        stage=Stage.SCHEMA,
        message=error["msg"],
        constraint=constraint,
        explanation=explanation,
    )


def _received(payload: Any, loc: tuple[LocPart, ...], default: Any) -> Any:
    node = payload
    for part in loc:
        node = _step(node, part)
    return default if node is _ABSENT else node


def _step(node: Any, part: LocPart) -> Any:
    if isinstance(node, dict):
        return node.get(part, _ABSENT)
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return _ABSENT


_MISSING = frozenset({"missing", "missing_argument", "missing_keyword_only_argument"})
_UNEXPECTED = frozenset({"extra_forbidden", "unexpected_keyword_argument"})
_TYPE_EXTRA = frozenset({"int_from_float", "is_instance_of", "none_required", "union_tag_not_found"})


def classify(kind: str) -> RootCause:
    """The root cause of a Pydantic error type."""
    if kind in _MISSING:
        return RootCause.MISSING_FIELD
    if kind in _UNEXPECTED:
        return RootCause.UNEXPECTED_FIELD
    if kind.endswith(("_type", "_parsing")) or kind in _TYPE_EXTRA:
        return RootCause.TYPE_MISMATCH
    return RootCause.CONSTRAINT_VIOLATION


_TYPE_NAMES = {
    "float": "a number",
    "int": "an integer",
    "string": "a string",
    "bool": "a boolean",
    "dict": "an object",
    "model": "an object",
    "model_attributes": "an object",
    "list": "an array",
    "tuple": "an array",
    "set": "an array",
    "datetime": "a string",  # as the JSON Schema twin says it: {"type": "string", "format": "date-time"}
    "date": "a string",
    "time": "a time string (HH:MM:SS)",
    "decimal": "a number",
    "uuid": "a UUID string",
}

_KEYWORDS = {  # Pydantic error type → (its context key, the JSON Schema keyword that states it)
    "greater_than": ("gt", "exclusiveMinimum"),
    "greater_than_equal": ("ge", "minimum"),
    "less_than": ("lt", "exclusiveMaximum"),
    "less_than_equal": ("le", "maximum"),
    "string_too_short": ("min_length", "minLength"),
    "string_too_long": ("max_length", "maxLength"),
    "too_short": ("min_length", "minItems"),
    "too_long": ("max_length", "maxItems"),
    "string_pattern_mismatch": ("pattern", "pattern"),
    "multiple_of": ("multiple_of", "multipleOf"),
}


def expectation(kind: str, ctx: dict[str, Any], message: str) -> str:
    """What the contract expected, in words: ``a value > 0``, ``an integer``, ``at least 1 character``."""
    if kind in _KEYWORDS:
        key, keyword = _KEYWORDS[kind]
        value = ctx.get(key)
        return expected_words(keyword, as_written(value) if keyword in BOUND_SYMBOLS else value)
    if kind == "literal_type":
        return str(ctx["expected"])
    if kind in _FORMATS:
        return expected_words("format", _FORMATS[kind])
    if kind == "decimal_max_places":
        return expected_words("multipleOf", 10 ** -int(ctx["decimal_places"]))
    if kind == "int_from_float":
        return "an integer (no fractional part)"
    if kind == "none_required":
        return "null"
    if kind.endswith(("_type", "_parsing")):
        return _TYPE_NAMES.get(kind.rsplit("_", 1)[0], message.removeprefix("Input should be ").lower())
    return _constraint_words(kind, ctx, message)


_FORMATS = {"datetime_format": "date-time", "date_format": "date"}  # raised by pydantic_types


def _constraint_words(kind: str, ctx: dict[str, Any], message: str) -> str:
    if kind in ("literal_error", "enum") and isinstance(ctx.get("options"), list):
        return expected_words("enum", ctx["options"])
    return message[0].lower() + message[1:] if message else kind
