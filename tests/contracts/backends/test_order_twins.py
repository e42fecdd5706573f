"""order@1 in both backends: the Pydantic example and its JSON Schema twin decide every order alike.

order@1 holds every type the docs list (strings with lengths and a pattern, integers, decimals, instants, an
enumeration, optional and nullable fields, a nested model, a list of models) and rules on timestamps, a
decimal and every line item, so each decision that used to differ between the backends is in its corpus.
"""

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contract_support import order_contract, order_twin
from sigma_aetl.contracts.evolution.compatibility import Mode, check
from sigma_aetl.contracts.evolution.diff import diff_definitions
from sigma_aetl.core.contract import Contract
from sigma_aetl.core.decision import Decision
from sigma_aetl.core.validator import validate
from strategies import broken_orders, dumps, json_objects, valid_orders

GOOD: dict[str, Any] = {
    "order_id": "O-1",
    "status": "paid",
    "customer": {"customer_id": "C-1", "country": "IE"},
    "items": [{"sku": "ABC-1234", "quantity": 2, "unit_price": 12.5}],
    "total": 25.0,
    "placed_at": "2025-01-01T10:00:00+01:00",
}
ITEM = GOOD["items"][0]


def order(**changes: Any) -> bytes:
    """GOOD with ``changes`` (a value of ``...`` removes the field)."""
    merged = {**GOOD, **changes}
    return json.dumps({key: value for key, value in merged.items() if value is not ...}).encode()


CORPUS = [
    order(),
    order(shipped_at=None, coupon=None),
    order(shipped_at="2025-01-01T09:30:00Z", coupon="SALE"),  # 09:30Z is after 09:00Z
    # decimals: JSON numbers only, two places, compared as decimals
    order(total="12.50"),
    order(total="25"),
    order(total=True),
    order(total=12.505),
    order(total=0),
    order(total=10000.0),
    order(total=10000.01),
    order(total=1e300),
    order(items=[{**ITEM, "unit_price": "12.50"}]),
    order(items=[{**ITEM, "unit_price": 0.001}, {**ITEM, "unit_price": -1}]),
    # instants: RFC 3339 with T and an offset, on both sides
    order(placed_at="2025-01-01T10:00:00"),
    order(placed_at="2025-01-01 10:00:00Z"),
    order(placed_at="2025-01-01T10:00Z"),
    order(placed_at="2025-01-01t10:00:00z"),
    order(placed_at="2025-12-31T23:59:60Z"),
    order(placed_at="2025-02-30T10:00:00Z"),
    order(placed_at="0000-01-01T00:00:00Z"),
    order(placed_at="2025-01-01T10:00:00+24:00"),
    order(placed_at="2025-01-01T10:00:00.123456789+05:30"),
    order(placed_at="2025-01-01"),
    order(placed_at="yesterday"),
    order(placed_at=1735725600),
    order(shipped_at="2025-01-01T08:59:59Z"),  # before placed_at (09:00Z): the rule
    order(shipped_at="2025-01-01T12:00:00"),
    order(shipped_at=7),
    # enumerations, optional and nullable fields
    order(status="lost"),
    order(status="PAID"),
    order(status=3),
    order(status=None),
    order(coupon=5),
    order(coupon=""),
    order(coupon=["SALE"]),
    order(order_id=None),
    order(order_id=""),
    order(order_id="x" * 65),
    order(status=...),
    order(placed_at=..., total=...),
    order(extra=1, another={"a": None}),
    # the nested model and the list of models
    order(customer="C-1"),
    order(customer=None),
    order(customer={"customer_id": "", "country": "ie"}),
    order(customer={"customer_id": "C-1"}),
    order(customer={"customer_id": "C-1", "country": "IE", "vip": True}),
    order(items=[]),
    order(items={}),
    order(items=[None, 5, "x"]),
    order(items=[{**ITEM, "sku": "abc-1234"}, {**ITEM, "quantity": 0}, {**ITEM, "quantity": 2.0}]),
    order(items=[{**ITEM, "quantity": 500}, ITEM, {**ITEM, "quantity": 101}]),  # the rule, per element
    order(items=[{**ITEM, "quantity": 500, "sku": "bad"}, {**ITEM, "quantity": "500"}]),
    order(items=[{**ITEM, "colour": "red"}, {"sku": "ABC-1234"}]),
    order(total=20000, shipped_at="2024-01-01T00:00:00Z", items=[{**ITEM, "quantity": 101}]),
    b'{"order_id": "O-1", "order_id": "O-2"}',
    b"[]",
    b"{",
]


@pytest.fixture(scope="module")
def pydantic_order() -> Contract:
    """order@1, the Pydantic example contract."""
    return order_contract()


@pytest.fixture(scope="module")
def twin() -> Contract:
    """order@1's JSON Schema twin."""
    return order_twin()


def summary(decision: Decision) -> dict[str, Any]:
    """Everything two backends must agree on: status, causes, paths, constraints, explanations, data."""
    return {
        "status": decision.status,
        "root_cause": decision.root_cause,
        "data": decision.data,
        "errors": [
            (e.path, e.loc, e.root_cause, e.constraint, e.rule, e.explanation) for e in decision.errors
        ],
    }


def assert_same_decision(first: Contract, second: Contract, raw: bytes) -> None:
    """Both backends decide ``raw`` identically (their error type codes and messages are their own)."""
    assert summary(validate(first, raw)) == summary(validate(second, raw)), raw


def test_the_twin_states_the_same_contract(pydantic_order: Contract, twin: Contract) -> None:
    """The fixture is order@1 in JSON Schema: only the backend differs, and check calls them compatible."""
    assert (pydantic_order.backend, twin.backend) == ("pydantic", "jsonschema")
    changes = diff_definitions(pydantic_order.definition(), twin.definition())
    assert [change.describe() for change in changes] == ["changed  backend: pydantic → jsonschema"]
    assert check(pydantic_order.definition(), twin.definition(), Mode.FULL).compatible
    assert (
        pydantic_order.rule_kinds
        == twin.rule_kinds
        == {
            "shipped_at": "instant",
            "placed_at": "instant",
            "total": "decimal",
        }
    )


@pytest.mark.parametrize("raw", CORPUS, ids=range(len(CORPUS)))
def test_hand_written_orders_decide_alike(pydantic_order: Contract, twin: Contract, raw: bytes) -> None:
    """Each hand-written order (decimals, instants, enums, nested models, rules per item) decides alike."""
    assert_same_decision(pydantic_order, twin, raw)


def test_the_corpus_covers_each_decision(pydantic_order: Contract) -> None:
    """The corpus is not vacuous: it passes, and fails for every cause and every rule of the contract."""
    decisions = [validate(pydantic_order, raw) for raw in CORPUS]
    causes = {decision.root_cause for decision in decisions}
    assert {None, "missing_field", "unexpected_field", "type_mismatch", "constraint_violation"} <= causes
    assert {"business_rule_violation", "malformed_json", "not_an_object"} <= causes
    rules = {error.rule for decision in decisions for error in decision.errors}
    assert {"ships_after_placed", "max_quantity", "max_total"} <= rules


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            order(total="12.50"),
            [("total", "type_mismatch", 'total: expected a number, received "12.50" (a string).')],
        ),
        (
            order(total=12.505),
            [
                (
                    "total",
                    "constraint_violation",
                    "total: expected a number with at most 2 decimal place(s), received 12.505 (a number).",
                )
            ],
        ),
        (
            order(placed_at="2025-01-01 10:00:00Z"),
            [
                (
                    "placed_at",
                    "constraint_violation",
                    "placed_at: expected a string in date-time format, "
                    'received "2025-01-01 10:00:00Z" (a string).',
                )
            ],
        ),
        (
            order(status="lost"),
            [
                (
                    "status",
                    "constraint_violation",
                    'status: expected one of "placed", "paid", "shipped", "cancelled", '
                    'received "lost" (a string).',
                )
            ],
        ),
        (
            order(coupon=5),
            [("coupon", "type_mismatch", "coupon: expected a string, received 5 (an integer).")],
        ),
        (
            order(items=[ITEM, ITEM, {**ITEM, "quantity": 101}]),
            [
                (
                    "items[2].quantity",
                    "business_rule_violation",
                    "items[2].quantity: rule max_quantity requires items[*].quantity <= 100, received "
                    "101 (an integer). More than 100 units of one line is a wholesale order; use the B2B "
                    "channel.",
                )
            ],
        ),
    ],
)
def test_explanations_read_as_sentences_in_both_backends(
    pydantic_order: Contract, twin: Contract, raw: bytes, expected: list[tuple[str, str, str]]
) -> None:
    """The decisions that used to differ read the same, in plain words (no Python reprs, no "'a' or 'b'")."""
    for contract in (pydantic_order, twin):
        found = [(e.path, e.root_cause.value, e.explanation) for e in validate(contract, raw).errors]
        assert found == expected, contract.backend


orders = st.one_of(valid_orders, broken_orders, json_objects)


@settings(max_examples=400, deadline=None)
@given(orders)
def test_generated_orders_decide_alike(pydantic_order: Contract, twin: Contract, value: Any) -> None:
    """Generated valid, broken and arbitrary orders get identical decisions from both backends."""
    assert_same_decision(pydantic_order, twin, dumps(value))


@settings(max_examples=100, deadline=None)
@given(valid_orders)
def test_generated_valid_orders_pass(pydantic_order: Contract, value: Any) -> None:
    """The valid-order strategy makes orders the contract accepts (the comparison is not all failures)."""
    decision = validate(pydantic_order, dumps(value))
    assert decision.passed, decision.errors
