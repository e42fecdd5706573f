"""How a Pydantic contract decides the values JSON has no type for — and says so in its JSON Schema.

Pydantic's strict JSON mode still takes ``"12.50"`` for a ``Decimal`` and ``2025-01-01 10:00:00`` (a space,
no offset) for a ``datetime``, where the contract's own JSON Schema twin refuses both. A contract built by
:func:`~sigma_aetl.contracts.backends.pydantic_model.pydantic_contract` validates with a copy of the
model's core schema in which:

- every ``datetime`` accepts only an RFC 3339 date-time with its UTC offset, and every ``date`` only an
  RFC 3339 full-date (:mod:`sigma_aetl.core.temporal`, the grammar the JSON Schema backend's ``date-time``
  and ``date`` formats use); a string of another form is a ``constraint_violation``, as a ``format`` is;
- every ``Decimal`` accepts JSON numbers only (never a string or a boolean), read as the number written;
- every ``Literal``/``Enum`` reports its options as a list, so the explanation can name them the same way
  the JSON Schema backend does.

The model's generated JSON Schema (:class:`ContractJsonSchema`, what the fingerprint hashes and ``contracts
check`` compares) states the same: a ``Decimal`` is ``{"type": "number", "format": "decimal"}`` with its
``decimal_places`` as ``multipleOf`` (``0.01``), not Pydantic's ``number or string``.
"""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, SchemaValidator, core_schema

from sigma_aetl.core.explain import TYPE_WORDS, json_type
from sigma_aetl.core.temporal import parse_date, parse_instant

_BOUNDS = {"gt": "exclusiveMinimum", "ge": "minimum", "lt": "exclusiveMaximum", "le": "maximum"}


class ContractJsonSchema(GenerateJsonSchema):
    """Pydantic's JSON Schema, with a ``Decimal`` stated as what a contract accepts: a JSON number."""

    def decimal_schema(self, schema: core_schema.DecimalSchema) -> JsonSchemaValue:
        """``{"type": "number", "format": "decimal", "multipleOf": 0.01, "maximum": 1000}``."""
        out: dict[str, Any] = {"type": "number", "format": "decimal"}
        places = schema.get("decimal_places")
        if places is not None:
            out["multipleOf"] = json_number(Decimal(1).scaleb(-places))
        if schema.get("multiple_of") is not None:
            out["multipleOf"] = json_number(Decimal(str(schema["multiple_of"])))
        for key, keyword in _BOUNDS.items():
            if schema.get(key) is not None:
                out[keyword] = json_number(Decimal(str(schema[key])))  # type: ignore[literal-required]
        return out


def json_number(value: Decimal) -> int | float:
    """A Decimal as the JSON number a contract writes: ``1000``, ``0.01``."""
    return int(value) if value == value.to_integral_value() else float(value)


def decimal_problems(schema: CoreSchema) -> list[str]:
    """Decimal and datetime settings a JSON Schema cannot state, so no twin could decide alike."""
    problems = []
    for node in _nodes(schema):
        if node.get("type") == "decimal":
            if node.get("max_digits") is not None:
                problems.append("max_digits (bound the value with le/lt instead)")
            if node.get("decimal_places") is not None and node.get("multiple_of") is not None:
                problems.append("both decimal_places and multiple_of (keep one)")
        if node.get("type") == "datetime" and node.get("tz_constraint") == "naive":
            problems.append("a NaiveDatetime (an instant needs its UTC offset; see docs/contracts.md)")
        if node.get("type") in ("datetime", "date") and any(key in node for key in _BOUNDS):
            problems.append(
                "a bound on a datetime or date, which JSON Schema cannot state (write it as a rule: "
                'placed_at >= "2025-01-01T00:00:00Z")'
            )
    return problems


def contract_validator(schema: CoreSchema) -> Callable[[str], Any]:
    """``validate_json`` of ``schema`` (a model's core schema) with the contract's decisions applied."""
    return SchemaValidator(_rewrite(schema)).validate_json


def _rewrite(node: Any) -> Any:
    if isinstance(node, list):
        return [_rewrite(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _rewrite(value) for key, value in node.items()}
    kind = out.get("type")
    if kind in ("model", "dataclass") and "cls" in out:
        # pydantic-core reuses a complete class's own validator (and so would skip this rewrite); the
        # result is discarded (the model only checks), so a plain class receives the validated fields
        out["cls"] = _Checked
    if kind == "datetime":
        return core_schema.no_info_before_validator_function(_instant, out)
    if kind == "date":
        return core_schema.no_info_before_validator_function(_date, out)
    if kind == "decimal":
        return core_schema.no_info_before_validator_function(_decimal, out)
    if kind == "literal":
        return core_schema.no_info_wrap_validator_function(_options(list(out["expected"])), out)
    if kind == "enum":
        values = [member.value for member in out["members"]]
        return core_schema.no_info_wrap_validator_function(_options(values), out)
    return out


class _Checked:
    """Receives the fields of a validated model; never looked at."""


def _nodes(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            found.append(item)
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return found


def _instant(value: Any) -> Any:
    if not isinstance(value, str):
        return value  # the datetime schema reports the wrong type
    parsed = parse_instant(value)
    if parsed is None:
        raise PydanticCustomError("datetime_format", "Input should be an RFC 3339 date-time with its offset")
    return parsed


def _date(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    parsed = parse_date(value)
    if parsed is None:
        raise PydanticCustomError("date_format", "Input should be an RFC 3339 full-date (YYYY-MM-DD)")
    return parsed


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError("decimal_type", "Input should be a number")
    if isinstance(value, float) and not value.is_integer():
        return Decimal(repr(value))
    return Decimal(int(value))


def _options(values: list[Any]) -> Callable[[Any, Callable[[Any], Any]], Any]:
    """Pydantic's enum check, reporting the options as a list; and, when every option has one JSON type
    (the generated schema then says ``"type"``), a value of another type as a type mismatch first."""
    types = {json_type(option) for option in values}
    expected = TYPE_WORDS.get(next(iter(types)), "") if len(types) == 1 else ""

    def check(value: Any, handler: Callable[[Any], Any]) -> Any:
        kind = json_type(value)
        if expected and kind not in types and not (kind == "integer" and "number" in types):
            raise PydanticCustomError("literal_type", "Input should be {expected}", {"expected": expected})
        try:
            return handler(value)
        except ValidationError:
            raise PydanticCustomError(
                "literal_error", "Input should be one of the listed values", {"options": values}
            ) from None

    return check
