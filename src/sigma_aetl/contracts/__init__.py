"""Data contracts: what contract files import, and the registry that serves them.

A Pydantic contract file (``contracts/<name>/v<N>.py``)::

    from pydantic import Field
    from sigma_aetl.contracts import ContractModel, Rule, pydantic_contract

    class Shipment(ContractModel):
        shipment_id: str = Field(min_length=1)

    CONTRACT = pydantic_contract(name="shipment", version=1, model=Shipment, identity=["shipment_id"])

A JSON Schema contract is a JSON file (``contracts/<name>/v<N>.json``) holding ``name``, ``version``,
``description``, ``identity``, ``rules`` and a Draft 2020-12 ``schema``; or, in Python,
``jsonschema_contract(name=..., version=..., schema={...})``. See docs/contracts.md.
"""

from sigma_aetl.contracts.backends.json_schema import jsonschema_contract
from sigma_aetl.contracts.backends.pydantic_model import ContractModel, pydantic_contract
from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core.contract import Contract
from sigma_aetl.core.rules import Rule

__all__ = ["Contract", "ContractModel", "Registry", "Rule", "jsonschema_contract", "pydantic_contract"]
