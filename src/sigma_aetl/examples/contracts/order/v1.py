"""order@1 — a customer order with line items (a draft: not released, not in the lock)."""

from decimal import Decimal
from typing import Literal

from pydantic import AwareDatetime, Field

from sigma_aetl.contracts import ContractModel, Rule, pydantic_contract


class Customer(ContractModel):
    """Who placed the order."""

    customer_id: str = Field(min_length=1, description="The shop's customer identifier.")
    country: str = Field(pattern="^[A-Z]{2}$", description="ISO 3166-1 alpha-2 country of delivery.")


class LineItem(ContractModel):
    """One line of the order."""

    sku: str = Field(pattern="^[A-Z]{3}-[0-9]{4}$", description="Stock keeping unit, e.g. ABC-1234.")
    quantity: int = Field(ge=1, description="Units ordered.")
    unit_price: Decimal = Field(
        ge=0, decimal_places=2, description="Price of one unit, in the order's currency."
    )


class Order(ContractModel):
    """An order placed in the web shop."""

    order_id: str = Field(min_length=1, max_length=64, description="Shop-assigned order identifier.")
    status: Literal["placed", "paid", "shipped", "cancelled"] = Field(description="Where the order stands.")
    customer: Customer
    items: list[LineItem] = Field(min_length=1, description="The order's lines, at least one.")
    total: Decimal = Field(gt=0, decimal_places=2, description="Amount charged, in the order's currency.")
    placed_at: AwareDatetime = Field(description="When the customer placed the order.")
    shipped_at: AwareDatetime | None = Field(default=None, description="When the order left the warehouse.")
    coupon: str | None = Field(default=None, min_length=1, description="Coupon code, when one was used.")


CONTRACT = pydantic_contract(
    name="order",
    version=1,
    model=Order,
    identity=["order_id"],
    rules=[
        Rule(
            name="ships_after_placed",
            field="shipped_at",
            op="ge",
            other_field="placed_at",
            message="An order cannot leave the warehouse before it was placed.",
        ),
        Rule(
            name="max_quantity",
            field="items[*].quantity",
            op="le",
            value=100,
            message="More than 100 units of one line is a wholesale order; use the B2B channel.",
        ),
        Rule(
            name="max_total",
            field="total",
            op="le",
            value=10000,
            message="Orders above 10000 need a manual payment check.",
        ),
    ],
)
