"""shipment_compat@1 — shipment@1 as the original SIGMA-AETL validator checked it, for ``/api/validate``.

The same four fields, bounds and rule as shipment@1, with one stated difference: an undeclared top-level
field (the seed n8n workflow's ``raw_payload``) is left out of ``clean_data`` and listed in the answer's
``ignored_fields`` instead of failing the event (``unknown_fields="ignore"``). It is what
``SIGMA_AETL_DEFAULT_CONTRACT`` points at by default; ``/v1/ingest`` producers use shipment@1.
"""

from pydantic import Field

from sigma_aetl.contracts import ContractModel, Rule, pydantic_contract


class Shipment(ContractModel):
    """A shipment handed to the carrier, as the original validator's clients send it."""

    shipment_id: str = Field(min_length=1, description="Producer-assigned shipment identifier.")
    weight_kg: float = Field(gt=0, description="Gross weight in kilograms.")
    destination: str = Field(min_length=1, description="Destination city or hub.")
    priority: int = Field(ge=1, le=3, description="1 = express, 2 = standard, 3 = economy.")


CONTRACT = pydantic_contract(
    name="shipment_compat",
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
    unknown_fields="ignore",
)
