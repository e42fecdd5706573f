"""Values JSON has no type for — decimals, instants, dates — are decided alike by both backends.

A decimal is a JSON number (never a string, never a boolean); an instant is an RFC 3339 date-time with a
``T`` and its UTC offset; a date an RFC 3339 full-date. ``contracts check`` sees what each side decides.
"""

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import AwareDatetime, Field, NaiveDatetime

from contract_support import object_schema
from sigma_aetl.contracts import ContractModel, Rule, jsonschema_contract, pydantic_contract
from sigma_aetl.contracts.evolution.compatibility import Mode, check
from sigma_aetl.core.contract import Contract
from sigma_aetl.core.validator import validate
from sigma_aetl.errors import ContractLoadError


class Invoice(ContractModel):
    """An amount, a moment and a day."""

    total: Decimal = Field(ge=0, decimal_places=2)
    issued_at: datetime
    due_on: date


INVOICE_SCHEMA = object_schema(
    {
        "total": {"type": "number", "format": "decimal", "minimum": 0, "multipleOf": 0.01},
        "issued_at": {"type": "string", "format": "date-time"},
        "due_on": {"type": "string", "format": "date"},
    }
)
GOOD = {"total": 12.5, "issued_at": "2025-01-01T10:00:00Z", "due_on": "2025-02-01"}


def twins(*rules: Rule) -> list[Contract]:
    """The invoice contract in each backend."""
    return [
        pydantic_contract(name="invoice", version=1, model=Invoice, rules=rules),
        jsonschema_contract(name="invoice", version=1, schema=INVOICE_SCHEMA, rules=rules),
    ]


def decide(contract: Contract, **changes: Any) -> list[tuple[str, str]]:
    """(path, root cause) of every error for GOOD with ``changes``."""
    decision = validate(contract, json.dumps({**GOOD, **changes}).encode())
    return [(error.path, error.root_cause.value) for error in decision.errors]


@pytest.mark.parametrize(
    ("value", "cause"),
    [
        ("12.50", "type_mismatch"),
        ("12", "type_mismatch"),
        (True, "type_mismatch"),
        (None, "type_mismatch"),
        (12.505, "constraint_violation"),
        (-1, "constraint_violation"),
        (12, None),
        (12.5, None),
        (0.07, None),
        (1e20, None),
    ],
)
def test_a_decimal_is_a_json_number_with_its_places(value: Any, cause: str | None) -> None:
    """A Decimal field takes numbers only — "12.50" is a type mismatch — and checks its decimal places."""
    expected = [("total", cause)] if cause else []
    for contract in twins():
        assert decide(contract, total=value) == expected, contract.backend


def test_the_decimal_places_error_reads_as_a_sentence() -> None:
    """Too many decimal places is explained in words, the same in both backends."""
    raw = json.dumps({**GOOD, "total": 12.505}).encode()
    for contract in twins():
        (error,) = validate(contract, raw).errors
        assert error.constraint == "a number with at most 2 decimal place(s)"
        assert (
            error.explanation
            == "total: expected a number with at most 2 decimal place(s), received 12.505 (a number)."
        )


def test_a_decimal_rule_compares_as_decimals() -> None:
    """``total <= Decimal("1000.10")`` holds for 1000.1 and fails for 1000.11, in both backends."""
    rule = Rule(name="cap", field="total", op="le", value=Decimal("1000.10"), message="Capped.")
    assert rule.value == 1000.1  # written as the JSON number it states
    for contract in twins(rule):
        assert contract.rule_kinds == {"total": "decimal"}
        assert decide(contract, total=1000.1) == []
        assert decide(contract, total=1000) == []
        assert decide(contract, total=1000.11) == [("total", "business_rule_violation")]


def test_a_decimal_constant_with_more_digits_than_json_keeps_is_refused() -> None:
    """A rule constant a JSON number cannot hold exactly is refused when the rule is built."""
    with pytest.raises(ValueError, match="more digits than a JSON number keeps"):
        Rule(name="cap", field="total", op="le", value=Decimal("0.12345678901234567890"), message=".")


@pytest.mark.parametrize(
    ("value", "passes"),
    [
        ("2025-01-01T10:00:00Z", True),
        ("2025-01-01T10:00:00+05:30", True),
        ("2025-01-01T10:00:00.5-00:00", True),
        ("2025-01-01t10:00:00z", True),  # RFC 3339 allows the lower case
        ("2025-01-01T10:00:00", False),  # no offset
        ("2025-01-01 10:00:00Z", False),  # a space
        ("2025-01-01T10:00Z", False),  # no seconds
        ("2025-01-01_10:00:00Z", False),
        ("2025-12-31T23:59:60Z", False),  # a leap second: no Python datetime holds it
        ("0000-01-01T00:00:00Z", False),
        ("2025-02-30T10:00:00Z", False),
        ("2025-01-01T10:00:00+2400", False),
        ("2025-01-01", False),
    ],
)
def test_an_instant_is_an_rfc3339_date_time_with_an_offset(value: str, passes: bool) -> None:
    """Both backends accept exactly RFC 3339 date-times with T and an offset; others break a constraint."""
    expected = [] if passes else [("issued_at", "constraint_violation")]
    for contract in twins():
        assert decide(contract, issued_at=value) == expected, contract.backend


@pytest.mark.parametrize(
    ("value", "passes"),
    [
        ("2024-02-29", True),
        ("2025-02-29", False),
        ("2025-1-1", False),
        ("20250101", False),
        ("2025-01-01T00:00:00Z", False),
    ],
)
def test_a_date_is_an_rfc3339_full_date(value: str, passes: bool) -> None:
    """Both backends accept exactly the RFC 3339 full-dates that are real days."""
    expected = [] if passes else [("due_on", "constraint_violation")]
    for contract in twins():
        assert decide(contract, due_on=value) == expected, contract.backend


def test_a_timestamp_of_the_wrong_json_type_is_a_type_mismatch() -> None:
    """A number for an instant or a date is a type mismatch in both backends, explained the same."""
    for contract in twins():
        assert decide(contract, issued_at=1735725600, due_on=20250201) == [
            ("issued_at", "type_mismatch"),
            ("due_on", "type_mismatch"),
        ]


def test_aware_and_plain_datetimes_decide_alike() -> None:
    """AwareDatetime and datetime are the same field in a contract: an instant with its offset."""

    class Aware(ContractModel):
        issued_at: AwareDatetime

    class Plain(ContractModel):
        issued_at: datetime

    for raw in (b'{"issued_at": "2025-01-01T10:00:00"}', b'{"issued_at": "2025-01-01T10:00:00+01:00"}'):
        first = validate(pydantic_contract(name="a", version=1, model=Aware), raw)
        second = validate(pydantic_contract(name="a", version=1, model=Plain), raw)
        assert [e.explanation for e in first.errors] == [e.explanation for e in second.errors]


def test_a_naive_datetime_is_refused_at_load() -> None:
    """An instant needs its offset: a NaiveDatetime field (it could accept nothing) is refused, named."""

    class Naive(ContractModel):
        value: NaiveDatetime

    with pytest.raises(ContractLoadError, match="n@1: Naive uses a NaiveDatetime"):
        pydantic_contract(name="n", version=1, model=Naive)


def test_decimal_settings_without_a_json_schema_are_refused() -> None:
    """max_digits has no JSON Schema twin, and decimal_places with multiple_of is one constraint too many."""

    class Digits(ContractModel):
        value: Decimal = Field(max_digits=5)

    class Both(ContractModel):
        value: Decimal = Field(decimal_places=2, multiple_of=0.05)

    with pytest.raises(ContractLoadError, match="max_digits"):
        pydantic_contract(name="n", version=1, model=Digits)
    with pytest.raises(ContractLoadError, match="both decimal_places and multiple_of"):
        pydantic_contract(name="n", version=1, model=Both)


def test_a_bound_on_a_datetime_is_refused_at_load() -> None:
    """``Field(gt=datetime(...))`` has no JSON Schema twin: it is refused, pointing to a rule instead."""

    class Bounded(ContractModel):
        issued_at: datetime = Field(gt=datetime(2025, 1, 1, tzinfo=UTC))

    with pytest.raises(ContractLoadError, match=r"a bound on a datetime or date.*write it as a rule"):
        pydantic_contract(name="n", version=1, model=Bounded)


def test_a_decimal_states_its_places_in_the_contracts_json_schema() -> None:
    """The generated schema says what the model decides: a number, a decimal, a multiple of 0.01."""
    (pydantic, twin) = twins()
    assert pydantic.json_schema["properties"]["total"] == {
        "type": "number",
        "format": "decimal",
        "minimum": 0,
        "multipleOf": 0.01,
        "title": "Total",
    }
    assert check(pydantic.definition(), twin.definition(), Mode.FULL).compatible


def test_check_sees_decimal_places_a_plain_number_does_not_have() -> None:
    """A JSON Schema number without places, replaced by a Decimal with two, is reported as tightened."""
    loose = jsonschema_contract(
        name="invoice",
        version=1,
        schema=object_schema({**INVOICE_SCHEMA["properties"], "total": {"type": "number", "minimum": 0}}),
    )
    (pydantic, _) = twins()
    report = check(loose.definition(), pydantic.definition(), Mode.BACKWARD)
    assert not report.compatible
    assert any(problem.subject == "total" for problem in report.problems)
    assert decide(loose, total=12.505) == []
    assert decide(pydantic, total=12.505) != []


def test_check_sees_a_string_a_decimal_no_longer_takes() -> None:
    """A decimal that was also allowed as text, replaced by a decimal number, is reported: old events fail."""
    text_too = jsonschema_contract(
        name="invoice",
        version=1,
        schema=object_schema(
            {**INVOICE_SCHEMA["properties"], "total": {"type": ["number", "string"], "minimum": 0}}
        ),
    )
    (pydantic, _) = twins()
    report = check(text_too.definition(), pydantic.definition(), Mode.BACKWARD)
    assert "type_narrowed" in [problem.kind for problem in report.problems if problem.subject == "total"]
