"""Errors of the keywords that judge by other schemas say in words what was required and what arrived."""

import json
from typing import Any

import pytest
from hypothesis import assume, given, settings

from contract_support import object_schema
from sigma_aetl.contracts import jsonschema_contract
from sigma_aetl.core.contract import Contract
from sigma_aetl.core.decision import FieldError
from sigma_aetl.core.taxonomy import RootCause
from sigma_aetl.core.validator import validate
from strategies import json_values

OPEN = {"type": "object", "additionalProperties": True}
PROPERTIES: dict[str, Any] = {
    "any": {"anyOf": [{"type": "string", "minLength": 3}, {"type": "integer", "minimum": 10}]},
    "one": {"oneOf": [{"type": "integer"}, {"type": "number", "minimum": 0}]},
    "nope": {"not": {"type": "integer"}},
    "code": {"not": {"enum": ["x"]}},
    "tags": {"type": "array", "contains": {"type": "integer", "minimum": 5}},
    "many": {"type": "array", "contains": {"type": "integer"}, "minContains": 2, "maxContains": 3},
    "cond": {
        **OPEN,
        "if": {"properties": {"k": {"const": "a"}}, "required": ["k"]},
        "then": {"required": ["a"]},
        "else": {"properties": {"b": {"type": "integer"}}},
    },
    "card": {**OPEN, "dependentSchemas": {"card": {"required": ["billing"]}}},
    "pair": {**OPEN, "dependentRequired": {"x": ["y"]}},
    "counts": {"type": "object", "properties": {"a": {}}, "unevaluatedProperties": {"type": "integer"}},
    "names": {**OPEN, "propertyNames": {"maxLength": 2}},
    "gone": {**OPEN, "properties": {"old": False}},
}
CONTRACT = jsonschema_contract(name="thing", version=1, schema=object_schema(PROPERTIES, required=[]))


def errors(field: str, value: Any, contract: Contract = CONTRACT) -> list[FieldError]:
    """The errors of an event holding ``value`` as ``field``."""
    return list(validate(contract, json.dumps({field: value}).encode()).errors)


def explanation(field: str, value: Any) -> str:
    """The explanation of the one error of an event holding ``value`` as ``field``."""
    [error] = errors(field, value)
    return error.explanation


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        (
            "any",
            "ab",
            "any: expected any of (1) a string (at least 3 character(s)), (2) an integer (>= "
            '10), received "ab" '
            "(a string). Nearest: (1) any: expected at least 3 character(s); (2) any: expected an integer.",
        ),
        (
            "any",
            5,
            "any: expected any of (1) a string (at least 3 character(s)), (2) an integer (>= 10), received 5 "
            "(an integer). Nearest: (2) any: expected >= 10; (1) any: expected a string.",
        ),
        (
            "one",
            3,
            "one: expected exactly one of (1) an integer, (2) a number (>= 0), received 3 "
            "(an integer), which "
            "matches (1) and (2).",
        ),
        ("nope", 3, "nope: expected a value that is not an integer, received 3 (an integer)."),
        ("code", "x", 'code: expected a value that is not one of "x", received "x" (a string).'),
        (
            "tags",
            [1, 2],
            "tags: expected an array with at least 1 item(s) that are an integer (>= 5), received [1,2] "
            "(an array).",
        ),
        (
            "many",
            [1, "a"],
            "many: expected an array with at least 2 item(s) that are an integer, received "
            '[1,"a"] (an array).',
        ),
        (
            "many",
            [1, 2, 3, 4],
            "many: expected an array with at most 3 item(s) that are an integer, received "
            "[1,2,3,4] (an array).",
        ),
        (
            "cond",
            {"k": "a"},
            "cond.a: required, but the field is missing. It applies because cond meets the if condition "
            '(an object (k: exactly "a"; requires k)).',
        ),
        (
            "cond",
            {"k": "b", "b": "x"},
            'cond.b: expected an integer, received "x" (a string). It applies because cond does not meet the '
            'if condition (an object (k: exactly "a"; requires k)).',
        ),
        (
            "card",
            {"card": 1},
            "card.billing: required, but the field is missing. It applies because card has the field card "
            "(dependentSchemas).",
        ),
        (
            "pair",
            {"x": 1},
            "pair.y: required, but the field is missing. It applies because pair has the field x "
            "(dependentRequired).",
        ),
        (
            "names",
            {"abc": 1},
            "names: expected field names that are a value (at most 2 character(s)), received "
            '"abc" (a string).',
        ),
        ("gone", {"old": 1}, "gone.old: not allowed (its schema is false); received 1 (an integer)."),
    ],
)
def test_combinators_explain_in_words(field: str, value: Any, expected: str) -> None:
    """Each combinator's error says what was required, in words, what arrived, and the branches' errors
    best match first."""
    assert explanation(field, value) == expected


def test_a_value_whose_type_fits_no_branch_is_a_type_mismatch() -> None:
    """``true`` for a string-or-integer ``anyOf`` is a type mismatch; ``"ab"`` (a string too short) is not."""
    [mistyped] = errors("any", True)
    [short] = errors("any", "ab")
    assert (mistyped.root_cause, short.root_cause) == (
        RootCause.TYPE_MISMATCH,
        RootCause.CONSTRAINT_VIOLATION,
    )
    assert mistyped.constraint == "any of (1) a string (at least 3 character(s)), (2) an integer (>= 10)"


def test_schema_valued_unevaluated_properties_reports_the_propertys_own_error() -> None:
    """A field judged by ``unevaluatedProperties: {"type": "integer"}`` that holds a string is a type
    mismatch at that field, not an unknown field."""
    [error] = errors("counts", {"a": 1, "z": "s"})
    assert (error.path, error.root_cause, error.constraint) == (
        "counts.z",
        RootCause.TYPE_MISMATCH,
        "an integer",
    )
    assert not errors("counts", {"a": 1, "z": 2})


def test_a_field_whose_schema_is_false_is_unexpected() -> None:
    """``properties: {"old": false}`` forbids the field: it is reported as an unexpected field."""
    [error] = errors("gone", {"old": 1})
    assert (error.path, error.root_cause) == ("gone.old", RootCause.UNEXPECTED_FIELD)


_RAW_WORDING = ("x-sigma", "valid under", "is not allowed for", "given schema", '{"type"')


@settings(max_examples=300, deadline=None)
@given(value=json_values)
def test_no_error_shows_internal_keywords_or_raw_wording(value: Any) -> None:
    """Whatever arrives, no error of a combinator shows the compiled schema, a reserved keyword or
    jsonschema-rs' own wording (unless the value itself holds it: an error quotes what was received)."""
    assume(not any(raw in json.dumps(value, separators=(",", ":")) for raw in _RAW_WORDING))
    for name in PROPERTIES:
        for error in errors(name, value):
            for text in (error.message, error.constraint or "", error.explanation):
                assert not any(raw in text for raw in _RAW_WORDING), text


def test_fields_of_a_failed_branch_are_not_unknown() -> None:
    """When no ``anyOf`` branch of an object closed by ``unevaluatedProperties`` matches, the fields the
    branches define are explained by the branches' errors, not called unknown; a truly unknown one is."""
    union = jsonschema_contract(
        name="union",
        version=1,
        schema={
            "type": "object",
            "unevaluatedProperties": False,
            "anyOf": [
                {"properties": {"kind": {"const": "a"}, "n": {"type": "integer"}}, "required": ["kind", "n"]},
                {"properties": {"kind": {"const": "b"}, "s": {"type": "string"}}, "required": ["kind", "s"]},
            ],
        },
    )
    decision = validate(union, b'{"kind": "a", "n": "x", "q": 1}')
    assert [(e.path, e.type, e.root_cause) for e in decision.errors] == [
        ("", "anyOf", RootCause.CONSTRAINT_VIOLATION),
        ("q", "unevaluatedProperties", RootCause.UNEXPECTED_FIELD),
    ]
    assert "Nearest: (1) n: expected an integer; (2) s is missing" in decision.errors[0].explanation
