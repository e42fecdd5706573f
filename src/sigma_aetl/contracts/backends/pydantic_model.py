"""The Pydantic validator backend: a contract is a Pydantic model plus declarative rules.

Models are strict by default (:class:`ContractModel`): no coercion, unknown fields rejected. Validation runs
in Pydantic's JSON mode, so JSON types map one to one (an RFC 3339 string is a datetime, ``"2"`` is not an
integer, ``true`` is not a number). The model only checks: the accepted record keeps the values as sent.
"""

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import ErrorDetails

from sigma_aetl.core.contract import Contract, SchemaCheck
from sigma_aetl.core.decision import FieldError
from sigma_aetl.core.explain import explain_expected, explain_missing, explain_unexpected, format_path
from sigma_aetl.core.rules import Rule
from sigma_aetl.core.taxonomy import RootCause, Stage
from sigma_aetl.errors import ContractLoadError


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
) -> Contract:
    """Define a contract version from a Pydantic model; used at the bottom of a contract file."""
    extra = model.model_config.get("extra") or "ignore"
    if extra == "ignore":
        raise ContractLoadError(
            f"{name}@{version}: the model must set extra='forbid' (the default of ContractModel) or "
            "extra='allow'; silently ignoring unknown fields is not a contract"
        )
    _check_fields(name, version, model, identity, rules)
    return Contract(
        name=name,
        version=version,
        backend="pydantic",
        description=description or (model.__doc__ or "").strip(),
        identity=tuple(identity),
        rules=tuple(rules),
        allow_extra=extra == "allow",
        json_schema=model.model_json_schema(),
        check=_checker(model),
    )


def _check_fields(
    name: str, version: int, model: type[BaseModel], identity: Sequence[str], rules: Sequence[Rule]
) -> None:
    known = set(model.model_fields)
    for field in [*identity, *(f.split(".")[0] for rule in rules for f in rule.fields())]:
        if field not in known:
            raise ContractLoadError(f"{name}@{version}: {field!r} is not a field of {model.__name__}")


def _checker(model: type[BaseModel]) -> SchemaCheck:
    validate = model.__pydantic_validator__.validate_json  # model_validate_json without its wrapper

    def check(text: str, value: Any) -> list[FieldError]:
        try:
            validate(text)
        except ValidationError as exc:
            return [to_field_error(error) for error in exc.errors(include_url=False)]
        return []

    return check


def to_field_error(error: ErrorDetails) -> FieldError:
    """Translate one Pydantic error into the shared error shape."""
    loc = tuple(error["loc"])
    path = format_path(loc)
    kind = error["type"]
    cause = classify(kind)
    received = error.get("input")
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
    "datetime": "an RFC 3339 date-time string",
    "date": "a date string (YYYY-MM-DD)",
    "time": "a time string (HH:MM:SS)",
    "decimal": "a decimal number",
    "uuid": "a UUID string",
}

_BOUNDS = {
    "greater_than": ("gt", ">"),
    "greater_than_equal": ("ge", ">="),
    "less_than": ("lt", "<"),
    "less_than_equal": ("le", "<="),
}


def expectation(kind: str, ctx: dict[str, Any], message: str) -> str:
    """What the contract expected, in words: ``a value > 0``, ``an integer``, ``at least 1 character``."""
    if kind in _BOUNDS:
        key, symbol = _BOUNDS[kind]
        return f"a value {symbol} {_number(ctx.get(key))}"
    if kind == "int_from_float":
        return "an integer (no fractional part)"
    if kind == "none_required":
        return "null"
    if kind.endswith(("_type", "_parsing")):
        return _TYPE_NAMES.get(kind.rsplit("_", 1)[0], message.removeprefix("Input should be ").lower())
    return _constraint_words(kind, ctx, message)


def _number(value: Any) -> Any:
    """Pydantic reports float bounds as floats (``0.0``); show them as the contract wrote them (``0``)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _constraint_words(kind: str, ctx: dict[str, Any], message: str) -> str:
    if kind == "string_too_short":
        return f"at least {ctx.get('min_length')} character(s)"
    if kind == "string_too_long":
        return f"at most {ctx.get('max_length')} character(s)"
    if kind == "too_short":
        return f"at least {ctx.get('min_length')} item(s)"
    if kind == "too_long":
        return f"at most {ctx.get('max_length')} item(s)"
    if kind == "string_pattern_mismatch":
        return f"a string matching {ctx.get('pattern')}"
    if kind in ("literal_error", "enum"):
        return f"one of {ctx.get('expected')}"
    if kind == "multiple_of":
        return f"a multiple of {ctx.get('multiple_of')}"
    return message[0].lower() + message[1:] if message else kind
