"""shipment@1 — the original SIGMA-AETL shipment contract (released, frozen)."""

from pydantic import Field

from sigma_aetl.contracts import ContractModel, Rule, pydantic_contract


class Shipment(ContractModel):
    """A shipment handed to the carrier."""

    shipment_id: str = Field(min_length=1, description="Producer-assigned shipment identifier.")
    weight_kg: float = Field(gt=0, description="Gross weight in kilograms.")
    destination: str = Field(min_length=1, description="Destination city or hub.")
    priority: int = Field(ge=1, le=3, description="1 = express, 2 = standard, 3 = economy.")


CONTRACT = pydantic_contract(
    name="shipment",
    version=1,
    model=Shipment,
    identity=["shipment_id"],
    rules=[
        Rule(
            name="max_weight",
            field="weight_kg",
            op="le",
            value=1000,
            message="Shipments heavier than 1000 kg need a freight booking, not this channel.",
        )
    ],
)
