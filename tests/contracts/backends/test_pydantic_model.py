"""Pydantic contracts are strict and closed all the way down, or refused when they load."""

import pytest
from pydantic import BaseModel, ConfigDict, Field

from sigma_aetl.contracts import ContractModel, pydantic_contract
from sigma_aetl.core.taxonomy import RootCause
from sigma_aetl.core.validator import validate
from sigma_aetl.errors import ContractLoadError


class LaxItem(BaseModel):
    """A line item written the natural way: a plain BaseModel."""

    quantity: int
    unit_price: float


class Item(ContractModel):
    """A line item that is a contract model itself."""

    quantity: int = Field(ge=1)
    unit_price: float


class DirectLax(ContractModel):
    """An order holding one lax item."""

    item: LaxItem


class ListOfLax(ContractModel):
    """An order holding a list of lax items."""

    items: list[LaxItem]


class UnionWithLax(ContractModel):
    """An order whose field is a union with a lax member."""

    extra: LaxItem | int | None = None


class NotStrict(BaseModel):
    """A root model that rejects unknown fields but coerces values."""

    model_config = ConfigDict(extra="forbid")
    quantity: int


class Order(ContractModel):
    """An order whose items are contract models."""

    order_id: str
    items: list[Item]


class OpenItem(BaseModel):
    """A nested model that says, explicitly, that it takes unknown fields."""

    model_config = ConfigDict(strict=True, extra="allow")
    quantity: int


class OpenOrder(ContractModel):
    """An order whose items may carry more fields, as its contract says."""

    items: list[OpenItem]


@pytest.mark.parametrize(
    ("model", "named"),
    [
        (DirectLax, "LaxItem"),
        (ListOfLax, "LaxItem"),
        (UnionWithLax, "LaxItem"),
        (NotStrict, "NotStrict itself"),
    ],
)
def test_a_lax_part_anywhere_is_refused_at_load(model: type[BaseModel], named: str) -> None:
    """A model, a list item's model or a union member's model that is not strict and closed is refused,
    naming the class and the fix."""
    with pytest.raises(ContractLoadError, match=rf"order@1: {named} .*not strict and closed.*ContractModel"):
        pydantic_contract(name="order", version=1, model=model)


def test_nested_contract_models_decide_strictly() -> None:
    """Inside a list, a string for an integer and a boolean for a number fail, and an unknown field too."""
    contract = pydantic_contract(name="order", version=1, model=Order)
    raw = b'{"order_id": "O-1", "items": [{"quantity": "2", "unit_price": true, "colour": "red"}]}'
    decision = validate(contract, raw)
    assert decision.status == "FAILED"
    found = {(error.path, error.root_cause) for error in decision.errors}
    assert found == {
        ("items[0].quantity", RootCause.TYPE_MISMATCH),
        ("items[0].unit_price", RootCause.TYPE_MISMATCH),
        ("items[0].colour", RootCause.UNEXPECTED_FIELD),
    }
    good = b'{"order_id": "O-1", "items": [{"quantity": 2, "unit_price": 1.5}]}'
    assert validate(contract, good).status == "PASSED"


def test_a_nested_model_may_say_it_is_open() -> None:
    """A strict nested model with extra='allow' is a statement of the contract, not an accident."""
    contract = pydantic_contract(name="order", version=1, model=OpenOrder)
    assert validate(contract, b'{"items": [{"quantity": 2, "note": "fragile"}]}').status == "PASSED"
    assert validate(contract, b'{"items": [{"quantity": "2"}]}').status == "FAILED"
