"""The validator against shipment@1: the acceptance cases, strictness, every error, root-cause precedence."""

import json

import pytest

from sigma_aetl.contracts import ContractModel, Rule, pydantic_contract
from sigma_aetl.core import serial
from sigma_aetl.core.contract import Contract
from sigma_aetl.core.decision import Decision, FieldError
from sigma_aetl.core.jsonparse import Limits
from sigma_aetl.core.taxonomy import PRECEDENCE, RootCause, Stage, primary
from sigma_aetl.core.validator import validate
from sigma_aetl.testing import (
    EXTRA_FIELD,
    HEAVY_SHIPMENT,
    INVALID_SHIPMENT,
    INVALID_UTF8,
    STRING_PRIORITY,
    TRUNCATED,
    VALID_SHIPMENT,
)


def shipment_bytes(**fields: object) -> bytes:
    """A valid shipment with ``fields`` replaced (a value of ``...`` removes the field)."""
    document: dict[str, object] = {
        "shipment_id": "SHIP-1",
        "weight_kg": 12.5,
        "destination": "Cork",
        "priority": 2,
    }
    document.update(fields)
    return json.dumps({k: v for k, v in document.items() if v is not ...}).encode()


def errors_by_path(decision: Decision) -> dict[str, FieldError]:
    """The decision's errors keyed by path (each path appears once in these tests)."""
    by_path = {error.path: error for error in decision.errors}
    assert len(by_path) == len(decision.errors)
    return by_path


def test_valid_shipment_passes_with_canonical_data(shipment: Contract) -> None:
    """The seed's valid shipment passes with its values unchanged and its keys sorted."""
    decision = validate(shipment, VALID_SHIPMENT)
    assert decision.status == "PASSED"
    assert decision.passed
    assert decision.data == {
        "destination": "Dublin",
        "priority": 2,
        "shipment_id": "SHIP-TRUE-003",
        "weight_kg": 15.2,
    }
    assert list(decision.data) == ["destination", "priority", "shipment_id", "weight_kg"]
    assert (decision.contract, decision.version) == ("shipment", 1)
    assert decision.fingerprint == shipment.fingerprint
    assert decision.fingerprint.startswith("sha256:")
    assert (decision.root_cause, decision.stage, decision.errors) == (None, None, ())


def test_invalid_shipment_reports_every_error(shipment: Contract) -> None:
    """The seed's invalid shipment fails on shipment_id, weight_kg and the missing priority, all at once."""
    decision = validate(shipment, INVALID_SHIPMENT)
    assert decision.status == "FAILED"
    assert decision.data is None
    assert decision.root_cause is RootCause.MISSING_FIELD
    assert decision.stage is Stage.SCHEMA
    errors = errors_by_path(decision)
    assert set(errors) == {"shipment_id", "weight_kg", "priority"}
    assert errors["shipment_id"].root_cause is RootCause.CONSTRAINT_VIOLATION
    assert errors["shipment_id"].type == "string_too_short"
    assert errors["shipment_id"].constraint == "at least 1 character(s)"
    assert errors["weight_kg"].root_cause is RootCause.CONSTRAINT_VIOLATION
    assert errors["weight_kg"].type == "greater_than"
    assert errors["weight_kg"].constraint == "> 0"
    assert errors["weight_kg"].explanation == "weight_kg: expected a value > 0, received -5 (an integer)."
    assert errors["priority"].root_cause is RootCause.MISSING_FIELD
    assert errors["priority"].type == "missing"
    assert errors["priority"].constraint == "required"
    assert errors["priority"].explanation == "priority: required, but the field is missing."
    assert all(error.loc == (error.path,) for error in decision.errors)


def test_heavy_shipment_breaks_the_business_rule(shipment: Contract) -> None:
    """A 1500 kg shipment passes the schema but breaks max_weight, reported as a business rule violation."""
    decision = validate(shipment, HEAVY_SHIPMENT)
    assert decision.root_cause is RootCause.BUSINESS_RULE_VIOLATION
    assert decision.stage is Stage.BUSINESS_RULE
    (error,) = decision.errors
    assert error.path == "weight_kg"
    assert error.loc == ("weight_kg",)
    assert error.type == "business_rule"
    assert error.stage is Stage.BUSINESS_RULE
    assert error.rule == "max_weight"
    assert error.constraint == "weight_kg <= 1000"
    assert error.message.startswith("Shipments heavier than 1000 kg")
    assert error.explanation.startswith(
        "weight_kg: rule max_weight requires weight_kg <= 1000, received 1500 (an integer). Shipments"
    )


def test_weight_exactly_at_the_rule_limit_passes(shipment: Contract) -> None:
    """weight_kg == 1000 satisfies weight_kg <= 1000."""
    assert validate(shipment, shipment_bytes(weight_kg=1000)).passed
    assert not validate(shipment, shipment_bytes(weight_kg=1000.0001)).passed


def test_string_priority_is_a_type_mismatch(shipment: Contract) -> None:
    """The string "2" is not coerced to 2: it is a type_mismatch with an explanation naming both."""
    decision = validate(shipment, STRING_PRIORITY)
    assert decision.root_cause is RootCause.TYPE_MISMATCH
    (error,) = decision.errors
    assert error.path == "priority"
    assert error.type == "int_type"
    assert error.constraint == "an integer"
    assert error.explanation == 'priority: expected an integer, received "2" (a string).'


@pytest.mark.parametrize(
    ("field", "value", "kind", "received"),
    [
        ("weight_kg", True, "float_type", "true (a boolean)"),
        ("weight_kg", "12.5", "float_type", '"12.5" (a string)'),
        ("weight_kg", None, "float_type", "null"),
        ("priority", 2.0, "int_type", "2.0 (a number)"),
        ("priority", 2.5, "int_type", "2.5 (a number)"),
        ("priority", False, "int_type", "false (a boolean)"),
        ("shipment_id", 42, "string_type", "42 (an integer)"),
        ("destination", ["Cork"], "string_type", '["Cork"] (an array)'),
        ("destination", {"city": "Cork"}, "string_type", '{"city":"Cork"} (an object)'),
    ],
)
def test_wrong_json_types_are_type_mismatches(
    shipment: Contract, field: str, value: object, kind: str, received: str
) -> None:
    """No coercion: booleans are not numbers, floats are not integers, numbers are not strings."""
    decision = validate(shipment, shipment_bytes(**{field: value}))
    assert decision.root_cause is RootCause.TYPE_MISMATCH
    (error,) = decision.errors
    assert (error.path, error.type, error.root_cause) == (field, kind, RootCause.TYPE_MISMATCH)
    assert error.explanation.endswith(f"received {received}.")


def test_integer_weight_is_a_number(shipment: Contract) -> None:
    """An integer is a valid JSON number for weight_kg and stays an integer in the record."""
    decision = validate(shipment, shipment_bytes(weight_kg=15))
    assert decision.data is not None
    assert type(decision.data["weight_kg"]) is int


def test_float_weight_with_zero_fraction_stays_float(shipment: Contract) -> None:
    """15.0 stays the float 15.0; the record holds the value as sent."""
    decision = validate(shipment, b'{"shipment_id":"S","weight_kg":15.0,"destination":"D","priority":1}')
    assert decision.data is not None
    assert type(decision.data["weight_kg"]) is float


@pytest.mark.parametrize(("priority", "constraint"), [(4, "<= 3"), (0, ">= 1"), (-1, ">= 1")])
def test_priority_out_of_range_is_a_constraint_violation(
    shipment: Contract, priority: int, constraint: str
) -> None:
    """A priority outside 1..3 is a constraint_violation stating the bound."""
    decision = validate(shipment, shipment_bytes(priority=priority))
    assert decision.root_cause is RootCause.CONSTRAINT_VIOLATION
    (error,) = decision.errors
    assert (error.path, error.constraint) == ("priority", constraint)
    assert error.explanation == f"priority: expected a value {constraint}, received {priority} (an integer)."


def test_huge_integer_priority_is_reported_exactly(shipment: Contract) -> None:
    """An integer past 64 bits is checked and shown exactly, never rounded."""
    decision = validate(shipment, shipment_bytes(priority=2**70))
    (error,) = decision.errors
    assert error.root_cause is RootCause.CONSTRAINT_VIOLATION
    assert f"received {2**70} (an integer)" in error.explanation


def test_extra_field_is_unexpected(shipment: Contract) -> None:
    """A field the contract does not define is rejected as unexpected_field, with its value shown."""
    decision = validate(shipment, EXTRA_FIELD)
    assert decision.root_cause is RootCause.UNEXPECTED_FIELD
    (error,) = decision.errors
    assert (error.path, error.type, error.constraint) == ("colour", "extra_forbidden", "no unknown fields")
    assert error.explanation == (
        'colour: not a field of this contract (unknown fields are not allowed); received "red" (a string).'
    )


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        (b"[1, 2]", "array"),
        (b'"shipment"', "string"),
        (b"null", "null"),
        (b"42", "integer"),
        (b"true", "boolean"),
    ],
)
def test_top_level_non_object_is_not_an_object(shipment: Contract, raw: bytes, kind: str) -> None:
    """Valid JSON that is not an object fails as not_an_object, a schema-stage error on the whole payload."""
    decision = validate(shipment, raw)
    assert decision.root_cause is RootCause.NOT_AN_OBJECT
    assert decision.stage is Stage.SCHEMA
    (error,) = decision.errors
    assert (error.path, error.loc, error.constraint) == ("", (), "type object")
    assert kind in error.message
    assert error.explanation.startswith("payload: expected a JSON object, received ")


@pytest.mark.parametrize(
    ("raw", "cause"),
    [
        (TRUNCATED, RootCause.MALFORMED_JSON),
        (INVALID_UTF8, RootCause.INVALID_ENCODING),
        (b'{"shipment_id": "a", "shipment_id": "b"}', RootCause.MALFORMED_JSON),
    ],
)
def test_transport_errors_stop_before_the_schema(shipment: Contract, raw: bytes, cause: RootCause) -> None:
    """A payload that cannot be read fails with one transport error and no schema errors."""
    decision = validate(shipment, raw)
    assert decision.root_cause is cause
    assert decision.stage is Stage.TRANSPORT
    assert len(decision.errors) == 1
    assert decision.contract == "shipment"
    assert decision.fingerprint == shipment.fingerprint


def test_limits_are_applied(shipment: Contract) -> None:
    """The limits passed in bound the payload size and depth."""
    assert validate(shipment, VALID_SHIPMENT, Limits(max_bytes=10)).root_cause is RootCause.PAYLOAD_TOO_LARGE
    deep = b'{"shipment_id": {"a": {"b": {}}}}'
    assert validate(shipment, deep, Limits(max_depth=3)).root_cause is RootCause.NESTING_TOO_DEEP


def test_business_rule_is_skipped_on_a_field_the_schema_rejected(shipment: Contract) -> None:
    """A weight the schema rejects is not also reported by the weight rule."""
    decision = validate(shipment, shipment_bytes(weight_kg="1500"))
    assert [(e.path, e.root_cause) for e in decision.errors] == [("weight_kg", RootCause.TYPE_MISMATCH)]


def test_business_rule_is_reported_alongside_other_schema_errors(shipment: Contract) -> None:
    """A broken rule on a valid field is reported together with schema errors on other fields."""
    decision = validate(shipment, shipment_bytes(weight_kg=1500, priority="1", colour="red"))
    causes = {error.path: error.root_cause for error in decision.errors}
    assert causes == {
        "priority": RootCause.TYPE_MISMATCH,
        "colour": RootCause.UNEXPECTED_FIELD,
        "weight_kg": RootCause.BUSINESS_RULE_VIOLATION,
    }
    assert decision.root_cause is RootCause.UNEXPECTED_FIELD


def test_business_rule_is_skipped_when_its_field_is_missing(shipment: Contract) -> None:
    """A missing weight is reported once, as missing, and not as a rule violation."""
    decision = validate(shipment, shipment_bytes(weight_kg=...))
    assert [(e.path, e.root_cause) for e in decision.errors] == [("weight_kg", RootCause.MISSING_FIELD)]


def test_explanations_are_deterministic_and_name_expected_and_received(shipment: Contract) -> None:
    """Every schema explanation names what was expected and what arrived, identically every time."""
    raw = shipment_bytes(weight_kg=-1, priority=9, destination="")
    first = validate(shipment, raw)
    assert serial.dumps(first) == serial.dumps(validate(shipment, raw))
    for error in first.errors:
        assert error.explanation.startswith(f"{error.path}: expected ")
        assert ", received " in error.explanation


def test_long_received_values_are_shortened(shipment: Contract) -> None:
    """A long received value is cut to 60 characters in the explanation; the error keeps its type."""
    decision = validate(shipment, shipment_bytes(priority="x" * 500))
    (error,) = decision.errors
    shown = '"' + "x" * 56 + "..."
    assert error.explanation == f"priority: expected an integer, received {shown} (a string)."


def test_root_cause_is_the_most_fundamental(shipment: Contract) -> None:
    """Missing beats unexpected beats type mismatch beats constraint beats business rule."""
    cases = [
        (shipment_bytes(priority=..., colour=1, weight_kg=True), RootCause.MISSING_FIELD),
        (shipment_bytes(colour=1, weight_kg=True, priority=7), RootCause.UNEXPECTED_FIELD),
        (shipment_bytes(weight_kg=True, priority=7), RootCause.TYPE_MISMATCH),
        (shipment_bytes(priority=7, weight_kg=5000), RootCause.CONSTRAINT_VIOLATION),
        (shipment_bytes(weight_kg=5000), RootCause.BUSINESS_RULE_VIOLATION),
    ]
    for raw, cause in cases:
        assert validate(shipment, raw).root_cause is cause


def test_precedence_is_the_documented_order() -> None:
    """The taxonomy ranks routing, then transport, then schema, then rules, then identity."""
    assert PRECEDENCE[:3] == (RootCause.UNROUTED, RootCause.UNKNOWN_CONTRACT, RootCause.UNKNOWN_VERSION)
    assert PRECEDENCE[-2:] == (RootCause.BUSINESS_RULE_VIOLATION, RootCause.IDENTITY_CONFLICT)
    assert primary([RootCause.TYPE_MISMATCH, RootCause.MISSING_FIELD]) is RootCause.MISSING_FIELD
    assert primary([RootCause.IDENTITY_CONFLICT, RootCause.UNKNOWN_VERSION]) is RootCause.UNKNOWN_VERSION
    assert primary([RootCause.NOT_AN_OBJECT, RootCause.MALFORMED_JSON]) is RootCause.MALFORMED_JSON


class _Window(ContractModel):
    """Optional bounds compared by a rule."""

    low: int | None = None
    high: int | None = None
    flag: bool | int = 0


WINDOW = pydantic_contract(
    name="window",
    version=1,
    model=_Window,
    rules=[
        Rule(name="ordered", field="high", op="ge", other_field="low", message="high must not be below low."),
        Rule(name="no_one", field="flag", op="ne", value=1, message="flag must not be 1."),
    ],
)


@pytest.mark.parametrize(
    ("raw", "broken"),
    [
        (b'{"low": 1, "high": 2}', []),
        (b'{"low": 3, "high": 2}', ["ordered"]),
        (b'{"low": 3}', []),
        (b'{"low": null, "high": null}', []),
        (b'{"low": null, "high": 2}', []),
        (b'{"flag": true}', []),
        (b'{"flag": 1}', ["no_one"]),
    ],
)
def test_rules_on_optional_fields_never_raise(raw: bytes, broken: list[str]) -> None:
    """A null is no value, so a rule on it does not apply (as for an absent field); true is not 1."""
    decision = validate(WINDOW, raw)
    assert [error.rule for error in decision.errors] == broken
