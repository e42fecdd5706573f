"""Rules address nested fields (``customer.country``) and every element of a list (``items[*].quantity``)."""

import re
from decimal import Decimal
from typing import Any

import pytest
from pydantic import AwareDatetime, Field

from contract_support import object_schema
from sigma_aetl.contracts import ContractModel, Rule, jsonschema_contract, pydantic_contract
from sigma_aetl.core.contract import Contract
from sigma_aetl.core.paths import EVERY, parse_path
from sigma_aetl.core.validator import validate
from sigma_aetl.errors import ContractLoadError


class Line(ContractModel):
    """A line of an order."""

    quantity: int = Field(ge=1)
    price: Decimal = Field(decimal_places=2)
    packed_at: AwareDatetime | None = None


class Buyer(ContractModel):
    """Who buys."""

    country: str


class Order(ContractModel):
    """An order with a buyer and lines."""

    buyer: Buyer | None = None
    lines: list[Line]
    placed_at: AwareDatetime


LINE = object_schema(
    {
        "quantity": {"type": "integer", "minimum": 1},
        "price": {"type": "number", "format": "decimal", "multipleOf": 0.01},
        "packed_at": {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]},
    },
    ["quantity", "price"],
)
SCHEMA = object_schema(
    {
        "buyer": {"anyOf": [object_schema({"country": {"type": "string"}}), {"type": "null"}]},
        "lines": {"type": "array", "items": LINE},
        "placed_at": {"type": "string", "format": "date-time"},
    },
    ["lines", "placed_at"],
)
MAX_QUANTITY = Rule(name="max_quantity", field="lines[*].quantity", op="le", value=100, message="Too many.")
NOT_XX = Rule(name="not_xx", field="buyer.country", op="ne", value="XX", message="No such country.")


def twins(*rules: Rule) -> list[Contract]:
    """The order contract in each backend."""
    return [
        pydantic_contract(name="order", version=1, model=Order, rules=rules),
        jsonschema_contract(name="order", version=1, schema=SCHEMA, rules=rules),
    ]


def errors(contract: Contract, raw: bytes) -> list[tuple[str, Any, str | None]]:
    """(path, loc, rule) of every error."""
    return [(e.path, e.loc, e.rule) for e in validate(contract, raw).errors]


def line(quantity: Any, price: Any = 1) -> str:
    """One line as JSON text."""
    return f'{{"quantity": {quantity}, "price": {price}}}'


def test_paths_parse_into_steps() -> None:
    """``a.b[*].c`` is a name, a name, every element, a name; other shapes are refused."""
    assert parse_path("weight_kg") == ("weight_kg",)
    assert parse_path("lines[*].quantity") == ("lines", EVERY, "quantity")
    assert parse_path("grid[*][*]") == ("grid", EVERY, EVERY)
    for bad in ("lines[2].quantity", "a..b", "lines[].q", ".a", "a[*"):
        with pytest.raises(ValueError, match="is not a field path"):
            parse_path(bad)


def test_a_rule_over_every_element_names_each_failing_one() -> None:
    """``lines[*].quantity <= 100`` is checked on every line; each error names its line's path."""
    raw = (
        f'{{"placed_at": "2025-01-01T00:00:00Z", "lines": [{line(5)}, {line(101)}, {line(1)}, {line(500)}]}}'
    )
    for contract in twins(MAX_QUANTITY):
        assert errors(contract, raw.encode()) == [
            ("lines[1].quantity", ("lines", 1, "quantity"), "max_quantity"),
            ("lines[3].quantity", ("lines", 3, "quantity"), "max_quantity"),
        ]
        explanation = validate(contract, raw.encode()).errors[0].explanation
        assert explanation.startswith(
            "lines[1].quantity: rule max_quantity requires lines[*].quantity <= 100"
        )


def test_an_element_that_failed_the_schema_is_not_read_by_a_rule() -> None:
    """A line whose quantity failed the schema is skipped; the rule still reads the other lines."""
    raw = f'{{"placed_at": "2025-01-01T00:00:00Z", "lines": [{line(0)}, {line(101)}, {line(200, 1.001)}]}}'
    for contract in twins(MAX_QUANTITY):
        assert errors(contract, raw.encode()) == [
            ("lines[0].quantity", ("lines", 0, "quantity"), None),
            ("lines[2].price", ("lines", 2, "price"), None),
            ("lines[1].quantity", ("lines", 1, "quantity"), "max_quantity"),
            ("lines[2].quantity", ("lines", 2, "quantity"), "max_quantity"),
        ]


def test_a_nested_field_and_an_absent_parent() -> None:
    """``buyer.country`` is read inside buyer; an absent or null buyer makes the rule not apply."""
    base = '"placed_at": "2025-01-01T00:00:00Z", "lines": []'
    for contract in twins(NOT_XX):
        assert errors(contract, f'{{{base}, "buyer": {{"country": "XX"}}}}'.encode()) == [
            ("buyer.country", ("buyer", "country"), "not_xx")
        ]
        assert errors(contract, f'{{{base}, "buyer": {{"country": "IE"}}}}'.encode()) == []
        assert errors(contract, f'{{{base}, "buyer": null}}'.encode()) == []
        assert errors(contract, f"{{{base}}}".encode()) == []


def test_kinds_resolve_on_nested_paths() -> None:
    """An element's instant compares as an instant with a top-level one, its decimal as a decimal."""
    packed = Rule(
        name="packed_after",
        field="lines[*].packed_at",
        op="ge",
        other_field="placed_at",
        message="Packed later.",
    )
    cheap = Rule(name="cheap", field="lines[*].price", op="lt", value=Decimal("9.99"), message="Cheap only.")
    raw = (
        '{"placed_at": "2025-01-01T10:00:00+05:00", "lines": ['
        '{"quantity": 1, "price": 9.98, "packed_at": "2025-01-01T06:00:00Z"},'
        '{"quantity": 1, "price": 9.99, "packed_at": "2025-01-01T04:00:00Z"}]}'
    )
    for contract in twins(packed, cheap):
        assert contract.rule_kinds == {
            "lines[*].packed_at": "instant",
            "placed_at": "instant",
            "lines[*].price": "decimal",
        }
        assert errors(contract, raw.encode()) == [
            ("lines[1].packed_at", ("lines", 1, "packed_at"), "packed_after"),
            ("lines[1].price", ("lines", 1, "price"), "cheap"),
        ]


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        (
            Rule(name="r", field="lines.quantity", op="le", value=1, message="."),
            "lines.quantity is not a field",
        ),
        (
            Rule(name="r", field="lines[*].weight", op="le", value=1, message="."),
            "lines[*].weight is not a field",
        ),
        (
            Rule(name="r", field="buyer[*].country", op="eq", value="IE", message="."),
            "buyer[*].country is not",
        ),
        (Rule(name="r", field="buyer.city", op="eq", value="Cork", message="."), "buyer.city is not a field"),
        (
            Rule(name="r", field="placed_at", op="ge", other_field="buyer.zone", message="."),
            "buyer.zone is not",
        ),
    ],
)
def test_a_rule_on_a_path_the_contract_does_not_define_is_refused(rule: Rule, problem: str) -> None:
    """A path that leads nowhere in the schema is refused at load, naming the rule and the path."""
    with pytest.raises(ContractLoadError, match=re.escape(f"order@1: rule r: {problem}")):
        pydantic_contract(name="order", version=1, model=Order, rules=[rule])
    with pytest.raises(ContractLoadError, match=re.escape(f"order@1: rule r: {problem}")):
        jsonschema_contract(name="order", version=1, schema=SCHEMA, rules=[rule])


def test_other_field_names_one_field() -> None:
    """``[*]`` may appear in the checked field only: the other side of a comparison is one value."""
    with pytest.raises(ValueError, match=r"\[\*\] may appear in `field` only"):
        Rule(name="r", field="placed_at", op="le", other_field="lines[*].packed_at", message=".")
