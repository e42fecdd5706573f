"""Sensitive fields: marked in a contract's schema, listed by path, in the fingerprint only when present."""

import json
from pathlib import Path

from pydantic import Field

from contract_support import document, object_schema, write_json_contract
from sigma_aetl.contracts import ContractModel, pydantic_contract
from sigma_aetl.contracts.loader import load_registry
from sigma_aetl.core.sensitive import sensitive_paths
from sigma_aetl.examples import CONTRACTS as CONTRACTS_DIR

SECRET = {"type": "string", "x-sensitive": True}


def test_marked_fields_are_found_through_objects_arrays_references_and_combinators() -> None:
    """Every marked field is named by its normalised path, wherever the schema describes it (a recursive
    reference is followed once: its deeper copies are not listed)."""
    schema = {
        "type": "object",
        "properties": {
            "email": SECRET,
            "customer": {"$ref": "#/$defs/Customer"},
            "items": {"type": "array", "items": {"properties": {"card": SECRET, "sku": {"type": "string"}}}},
            "either": {"anyOf": [{"type": "null"}, {"properties": {"pin": SECRET}}]},
        },
        "$defs": {"Customer": {"properties": {"phone": SECRET, "self": {"$ref": "#/$defs/Customer"}}}},
    }
    assert sensitive_paths(schema) == {
        "email",
        "customer.phone",
        "items[*].card",
        "either.pin",
    }


def test_a_pydantic_field_marked_sensitive_is_listed_and_fingerprinted() -> None:
    """``json_schema_extra={"x-sensitive": True}`` on a Pydantic field marks it; the definition names it."""

    class Card(ContractModel):
        number: str = Field(json_schema_extra={"x-sensitive": True})

    class Payment(ContractModel):
        payment_id: str
        card: Card
        email: str = Field(json_schema_extra={"x-sensitive": True})

    contract = pydantic_contract(name="payment", version=1, model=Payment, identity=["payment_id"])
    assert contract.sensitive == {"email", "card.number"}
    assert contract.definition()["sensitive"] == ["card.number", "email"]


def test_a_json_schema_contract_marks_fields_with_x_sensitive(tmp_path: Path) -> None:
    """A JSON Schema contract's ``"x-sensitive": true`` marks the field, and validation is unchanged."""
    schema = object_schema({"id": {"type": "string"}, "email": SECRET})
    write_json_contract(tmp_path, document("person", 1, schema, identity=["id"]))
    contract = load_registry(tmp_path).require("person@1")
    assert contract.sensitive == {"email"}
    assert contract.check('{"id": "a", "email": "x@y"}', {"id": "a", "email": "x@y"}) == []


def test_contracts_without_sensitive_fields_keep_their_definition_and_released_fingerprints() -> None:
    """No shipped contract marks a field: their definitions have no `sensitive` key and the lock matches."""
    lock = json.loads((CONTRACTS_DIR / "contracts.lock.json").read_text())
    registry = load_registry(CONTRACTS_DIR)
    released = {f"{entry['contract']}@{entry['version']}": entry["fingerprint"] for entry in lock["released"]}
    assert released
    for ref, fingerprint in released.items():
        contract = registry.require(ref)
        assert contract.sensitive == frozenset()
        assert "sensitive" not in contract.definition()
        assert contract.fingerprint == fingerprint
