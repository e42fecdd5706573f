"""Numbers exactly as sent: a number a 64-bit float does not hold as written is an error at its path."""

import json

import pytest
from hypothesis import given

from contract_support import shipment_twin
from sigma_aetl.core.contract import Contract
from sigma_aetl.core.decision import Decision
from sigma_aetl.core.jsonparse import Limits, Parsed, parse
from sigma_aetl.core.numbers import INEXACT, may_be_inexact
from sigma_aetl.core.taxonomy import RootCause
from sigma_aetl.core.validator import validate
from strategies import finite_floats, with_more_digits

SHIPMENT = '{"shipment_id": "S-1", "weight_kg": %s, "destination": "Cork", "priority": 1}'


@pytest.fixture(scope="module")
def twin(shipment: Contract) -> Contract:
    """shipment@1 in the JSON Schema backend."""
    return shipment_twin(shipment)


def agreed(decision: Decision) -> tuple[object, ...]:
    """What twins must agree on: status, causes, paths, constraints, explanations, data (their error type
    codes and messages are their own)."""
    errors = [
        (e.path, e.loc, e.root_cause, e.stage, e.constraint, e.rule, e.explanation) for e in decision.errors
    ]
    return (decision.status, decision.root_cause, decision.stage, decision.data, errors)


def parsed(text: str) -> Parsed:
    """``text`` parsed (failing the test if it was refused)."""
    result = parse(text.encode(), Limits())
    assert isinstance(result, Parsed), result
    return result


@given(finite_floats)
def test_a_floats_shortest_text_is_exact(number: float) -> None:
    """Any finite float written as its shortest text (``repr``) is read as sent, with no error."""
    result = parsed(json.dumps({"x": [number]}))
    assert result.inexact == ()
    assert result.value == {"x": [number]}


@given(finite_floats.filter(bool))
def test_more_digits_than_a_float_holds_are_inexact(number: float) -> None:
    """A number with digits a float cannot hold is found, at its path, with its text exactly as sent."""
    text = with_more_digits(number)
    result = parsed('{"a": {"b": [1, ' + text + "]}}")
    assert [(n.loc, n.text) for n in result.inexact] == [(("a", "b", 1), text)]


@pytest.mark.parametrize(
    "text", ["0.1", "2.50", "1e3", "5e-324", "1e-320", "0.30000000000000004", "-0.0", "1000.0000001"]
)
def test_numbers_a_float_holds_pass(text: str) -> None:
    """Short decimals, trailing zeros, exponents, subnormals and 17-digit shortest forms are exact."""
    assert parsed(SHIPMENT % text).inexact == ()


@pytest.mark.parametrize(
    "text", ["1000.0000000000000001", "9007199254740993.0", "1e-400", "0.1000000000000000001"]
)
def test_numbers_a_float_rounds_are_inexact(text: str) -> None:
    """A number that a float would round, or flush to zero, is inexact."""
    assert [n.text for n in parsed(SHIPMENT % text).inexact] == [text]


def test_integers_stay_exact_at_any_size() -> None:
    """Integers are read exactly, however long; those a float would not hold are noted as integers."""
    result = parsed('{"n": 123456789012345678901234567890, "m": 9007199254740993, "k": 9007199254740992}')
    assert result.value == {"n": 123456789012345678901234567890, "m": 9007199254740993, "k": 2**53}
    assert [(n.loc, n.integer) for n in result.inexact] == [(("n",), True), (("m",), True)]


@pytest.mark.parametrize("backend", ["pydantic", "json-schema"])
def test_an_integer_a_float_does_not_hold_fails_only_in_a_float_field(
    shipment: Contract, twin: Contract, backend: str
) -> None:
    """``9007199254740993`` is inexact as a ``weight_kg`` (a number), not as a ``priority`` (an integer)
    nor as a field the contract does not define."""
    contract = shipment if backend == "pydantic" else twin
    weight = validate(contract, (SHIPMENT % "9007199254740993").encode())
    assert [(e.path, e.type) for e in weight.errors] == [("weight_kg", INEXACT)]
    priority = validate(
        contract, SHIPMENT.replace('"priority": 1', '"priority": 9007199254740993').encode() % b"5"
    )
    assert INEXACT not in [e.type for e in priority.errors]
    extra = validate(contract, (SHIPMENT % "5").replace("}", ', "x": 9007199254740993}').encode())
    assert [e.root_cause for e in extra.errors] == [RootCause.UNEXPECTED_FIELD]


def test_digits_inside_strings_are_left_alone() -> None:
    """A long run of digits in a string only costs the exact check; nothing is reported."""
    result = parsed('{"id": "12345678901234567890.5e123", "x": 1.5}')
    assert result.inexact == ()
    assert result.value == {"id": "12345678901234567890.5e123", "x": 1.5}


@pytest.mark.parametrize("backend", ["pydantic", "json-schema"])
def test_a_weight_past_the_rule_by_a_rounding_fails_on_both_backends(
    shipment: Contract, twin: Contract, backend: str
) -> None:
    """``1000.0000000000000001`` against ``weight_kg <= 1000`` is an ``inexact_number`` constraint
    violation at ``weight_kg`` (the rule is not run on it), the same in both backends."""
    contract = shipment if backend == "pydantic" else twin
    decision = validate(contract, (SHIPMENT % "1000.0000000000000001").encode())
    assert decision.status == "FAILED"
    assert decision.root_cause is RootCause.CONSTRAINT_VIOLATION
    assert [(e.path, e.type) for e in decision.errors] == [("weight_kg", INEXACT)]
    assert "1000.0000000000000001" in decision.errors[0].explanation


@given(finite_floats.filter(bool))
def test_both_backends_decide_inexact_numbers_alike(
    shipment: Contract, twin: Contract, number: float
) -> None:
    """For any number with digits a float cannot hold, the twins give the same decision."""
    raw = (SHIPMENT % with_more_digits(number)).encode()
    assert agreed(validate(shipment, raw)) == agreed(validate(twin, raw))


@pytest.mark.parametrize(
    "raw",
    [
        b'{"shipment_id": "SHIP-TRUE-003", "weight_kg": 15.2}',
        b'{"id": "550e8400-e29b-41d4-a716-446655440000", "total": 25.0}',
        b'{"id": "12345678901234567890", "x": 1.5}',
    ],
)
def test_ordinary_payloads_skip_the_exact_check(raw: bytes) -> None:
    """Identifiers, UUIDs and digit strings do not send a payload to the exact (slower) re-parse."""
    assert not may_be_inexact(raw)


@pytest.mark.parametrize(
    "raw", [b"[1e-400]", b"-9223372036854775809", b'{"a": 1.00000000000000000001e5}', b'{"a":1E+400 }']
)
def test_numbers_that_may_be_inexact_are_checked(raw: bytes) -> None:
    """Long mantissas, three-digit exponents and numbers at the very end all go to the exact check."""
    assert may_be_inexact(raw)
