"""Helpers for the contract reload tests: a private copy of the contracts, and the edits made to it while a
gateway or a worker runs (a new contract, a new version, a released version edited in place)."""

import json
import os
import shutil
from pathlib import Path

CONTRACTS = Path(__file__).parents[1] / "contracts"

PARCEL = b'{"parcel_id": "P-1", "grams": 250}'
"""A valid parcel@1 event: a contract that does not exist until :func:`add_parcel` writes it."""
HIGH_PRIORITY = b'{"shipment_id": "SHIP-P5", "weight_kg": 3, "destination": "Cork", "priority": 5}'
"""Fails shipment@1 as released (priority up to 3); would pass the edited version :func:`edit_v1` writes."""


def copy_contracts(where: Path) -> Path:
    """A private copy of the repository's contracts directory, lock included."""
    return Path(shutil.copytree(CONTRACTS, where / "contracts"))


def add_parcel(contracts: Path) -> Path:
    """Write a new contract, parcel@1 (JSON Schema, a draft); return its file."""
    document = {
        "name": "parcel",
        "version": 1,
        "identity": ["parcel_id"],
        "schema": {
            "type": "object",
            "additionalProperties": False,
            "required": ["parcel_id", "grams"],
            "properties": {"parcel_id": {"type": "string", "minLength": 1}, "grams": {"type": "integer"}},
        },
    }
    (contracts / "parcel").mkdir()
    path = contracts / "parcel" / "v1.json"
    path.write_text(json.dumps(document))
    return path


def add_shipment_v3(contracts: Path) -> Path:
    """Write shipment@3: shipment@2 with its version changed (a draft); return its file."""
    document = json.loads((contracts / "shipment" / "v2.json").read_text())
    document["version"] = 3
    path = contracts / "shipment" / "v3.json"
    path.write_text(json.dumps(document))
    return path


def edit_v1(contracts: Path) -> None:
    """Edit released shipment@1 in place: priority may now be up to 5. The file keeps its size and its
    modification second (one nanosecond later), so Python's bytecode cache would take it as unchanged."""
    v1 = contracts / "shipment" / "v1.py"
    before = v1.stat()
    v1.write_text(v1.read_text().replace("ge=1, le=3", "ge=1, le=5"))
    os.utime(v1, ns=(before.st_atime_ns, before.st_mtime_ns + 1))
