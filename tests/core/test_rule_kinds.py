"""Rules compare instants as instants and dates as dates, on both backends; what cannot work is refused."""

from datetime import date, datetime
from typing import Any

import pytest
from pydantic import AwareDatetime

from sigma_aetl.contracts import ContractModel, Rule, jsonschema_contract, pydantic_contract
from sigma_aetl.core.contract import Contract
from sigma_aetl.core.validator import validate
from sigma_aetl.errors import ContractLoadError

SHIPPED_AFTER_PLACED = Rule(
    name="shipped_after_placed",
    field="shipped_at",
    op="ge",
    other_field="placed_at",
    message="An order ships after it is placed.",
)


class Order(ContractModel):
    """An order with two timestamps and a day."""

    placed_at: AwareDatetime
    shipped_at: AwareDatetime | None = None
    day: date | None = None


SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["placed_at"],
    "properties": {
        "placed_at": {"type": "string", "format": "date-time"},
        "shipped_at": {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]},
        "day": {"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}]},
    },
}


def twins(*rules: Rule) -> list[Contract]:
    """The same order contract written with each backend."""
    return [
        pydantic_contract(name="order", version=1, model=Order, rules=rules),
        jsonschema_contract(name="order", version=1, schema=SCHEMA, rules=rules),
    ]


@pytest.mark.parametrize(
    ("placed", "shipped", "passes"),
    [
        ("2025-01-01T10:00:00Z", "2025-01-01T10:30:00+05:00", False),  # 05:30Z is before 10:00Z
        ("2025-01-01T10:30:00+05:00", "2025-01-01T10:00:00Z", True),  # 10:00Z is after 05:30Z
        ("2025-01-01T10:00:00Z", "2025-01-01T11:00:00+01:00", True),  # the same instant
        ("2025-01-01T10:00:00Z", "2025-01-01T09:59:59.999999Z", False),
    ],
)
def test_timestamps_compare_as_instants_on_both_backends(placed: str, shipped: str, passes: bool) -> None:
    """shipped_at >= placed_at applies the offsets, whichever backend states the contract."""
    raw = f'{{"placed_at": "{placed}", "shipped_at": "{shipped}"}}'.encode()
    for contract in twins(SHIPPED_AFTER_PLACED):
        decision = validate(contract, raw)
        assert decision.passed is passes, (contract.backend, decision.errors)


def test_an_optional_timestamp_sent_as_null_skips_the_rule() -> None:
    """An explicit null is no value: the rule does not apply, as when the field is absent."""
    for contract in twins(SHIPPED_AFTER_PLACED):
        for raw in (
            b'{"placed_at": "2025-01-01T10:00:00Z", "shipped_at": null}',
            b'{"placed_at": "2025-01-01T10:00:00Z"}',
        ):
            assert validate(contract, raw).passed, contract.backend


def test_a_constant_compares_as_an_instant_and_a_date_as_a_date() -> None:
    """A rule's constant is read as the field's kind: ``placed_at >= 2025-01-01T00:00:00+01:00``."""
    after = Rule(
        name="recent", field="placed_at", op="ge", value="2025-01-01T00:00:00+01:00", message="Recent."
    )
    on_day = Rule(name="day", field="day", op="in", value=["2025-01-02", "2025-01-03"], message="Those days.")
    for contract in twins(after, on_day):
        assert validate(contract, b'{"placed_at": "2024-12-31T23:30:00Z"}').passed  # 00:30+01:00
        assert not validate(contract, b'{"placed_at": "2024-12-31T22:30:00Z"}').passed
        good = b'{"placed_at": "2025-01-02T00:00:00Z", "day": "2025-01-03"}'
        assert validate(contract, good).passed
        assert not validate(contract, b'{"placed_at": "2025-01-02T00:00:00Z", "day": "2025-01-04"}').passed


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        (Rule(name="r", field="placed_at", op="ge", other_field="day", message="."), "with day"),
        (Rule(name="r", field="placed_at", op="ge", value="yesterday", message="."), "is not an instant"),
        (Rule(name="r", field="placed_at", op="ge", value=5, message="."), "is not an instant"),
        (
            Rule(name="r", field="placed_at", op="ge", value="2025-01-01T00:00:00", message="."),
            "no UTC offset",
        ),
        (Rule(name="r", field="day", op="in", value=["2025-01-01", "monday"], message="."), "is not a date"),
    ],
)
def test_a_rule_that_cannot_work_is_refused_at_load(rule: Rule, problem: str) -> None:
    """Comparing an instant with a date, or with a constant of another kind, is refused by both backends."""
    with pytest.raises(ContractLoadError, match=rf"order@1: rule r.*{problem}"):
        pydantic_contract(name="order", version=1, model=Order, rules=[rule])
    with pytest.raises(ContractLoadError, match=rf"order@1: rule r.*{problem}"):
        jsonschema_contract(name="order", version=1, schema=SCHEMA, rules=[rule])


def test_a_naive_instant_is_refused_by_the_schema_in_both_backends() -> None:
    """A date-time without offset never reaches a rule: a datetime field refuses it, as JSON Schema does."""

    class Loose(ContractModel):
        placed_at: datetime
        shipped_at: datetime

    loose = pydantic_contract(name="order", version=1, model=Loose, rules=[SHIPPED_AFTER_PLACED])
    raw = b'{"placed_at": "2025-01-01T10:00:00Z", "shipped_at": "2025-01-01T12:00:00"}'
    for contract in (loose, twins(SHIPPED_AFTER_PLACED)[1]):
        decision = validate(contract, raw)
        assert [(e.path, e.root_cause, e.rule) for e in decision.errors] == [
            ("shipped_at", "constraint_violation", None)
        ]
