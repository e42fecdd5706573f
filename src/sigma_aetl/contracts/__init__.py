"""Data contracts: what contract files import, and the registry that serves them.

A contract file::

    from pydantic import Field
    from sigma_aetl.contracts import ContractModel, Rule, pydantic_contract

    class Shipment(ContractModel):
        shipment_id: str = Field(min_length=1)

    CONTRACT = pydantic_contract(name="shipment", version=1, model=Shipment, identity=["shipment_id"])
"""

from sigma_aetl.contracts.model import Contract
from sigma_aetl.contracts.pydantic_backend import ContractModel, pydantic_contract
from sigma_aetl.contracts.registry import Registry
from sigma_aetl.contracts.rules import Rule

__all__ = ["Contract", "ContractModel", "Registry", "Rule", "pydantic_contract"]
