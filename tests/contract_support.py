"""Helpers for the contract tests: shipment@1's JSON Schema twin, and contract files written on the fly.

The twin lives here, not in contracts/, so that the repository's registry keeps exactly one shipment@1.
"""

import json
import shutil
from pathlib import Path
from typing import Any

from sigma_aetl.contracts.backends.json_schema import jsonschema_contract
from sigma_aetl.contracts.loader import load_file
from sigma_aetl.core.contract import Contract

REPO_CONTRACTS = Path(__file__).parents[1] / "contracts"
ORDER_V1 = REPO_CONTRACTS / "order" / "v1.py"
"""The order example (a draft Pydantic contract). Tests reach it through this constant only, so the example
contracts can move (into the package) by changing this line."""
ORDER_V1_TWIN = Path(__file__).parent / "contracts" / "fixtures" / "order_v1.json"
"""order@1 written as a JSON Schema contract file: its exact twin."""


def order_contract() -> Contract:
    """order@1, the Pydantic contract shipped as an example."""
    return load_file(ORDER_V1, ORDER_V1.parents[1])


def order_twin() -> Contract:
    """order@1's JSON Schema twin, loaded as a contract file."""
    return load_file(ORDER_V1_TWIN, ORDER_V1_TWIN.parent)


SHIPMENT_V1_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["shipment_id", "weight_kg", "destination", "priority"],
    "properties": {
        "shipment_id": {
            "type": "string",
            "minLength": 1,
            "description": "Producer-assigned shipment identifier.",
        },
        "weight_kg": {"type": "number", "exclusiveMinimum": 0, "description": "Gross weight in kilograms."},
        "destination": {"type": "string", "minLength": 1, "description": "Destination city or hub."},
        "priority": {
            "type": "integer",
            "minimum": 1,
            "maximum": 3,
            "description": "1 = express, 2 = standard, 3 = economy.",
        },
    },
}


def shipment_twin(shipment: Contract) -> Contract:
    """shipment@1 expressed in the JSON Schema backend: same fields, constraints, rules and identity."""
    return jsonschema_contract(
        name=shipment.name,
        version=shipment.version,
        schema=SHIPMENT_V1_SCHEMA,
        identity=shipment.identity,
        rules=shipment.rules,
        description=shipment.description,
    )


def object_schema(
    properties: dict[str, Any], required: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    """A closed object schema over ``properties`` (all required unless told otherwise)."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": list(properties) if required is None else required,
        "properties": properties,
        **extra,
    }


def document(name: str, version: int, schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """The content of a ``v<N>.json`` contract file."""
    return {"name": name, "version": version, "schema": schema, **extra}


def write_json_contract(root: Path, body: dict[str, Any] | str, relative: str | None = None) -> Path:
    """Write a JSON contract file under ``root`` (at ``name/v<version>.json`` unless told) and return it."""
    if isinstance(body, dict):
        relative = relative or f"{body['name']}/v{body['version']}.json"
        text = json.dumps(body, indent=2)
    else:
        text = body
    assert relative is not None
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def copy_repository_contracts(target: Path) -> Path:
    """A copy of the repository's contracts directory, lock file included."""
    shutil.copytree(REPO_CONTRACTS, target)
    return target
