"""Diffs between contract versions: fields, constraints, rules and identity, across backends."""

from typing import Any

from pydantic import Field

from contract_support import object_schema
from sigma_aetl.contracts import ContractModel, Rule, jsonschema_contract, pydantic_contract
from sigma_aetl.contracts.evolution.diff import diff_definitions
from sigma_aetl.contracts.evolution.shape import shape_of
from sigma_aetl.contracts.registry import Registry

RULE = Rule(name="small", field="size", op="le", value=10, message="Too big.")


def definition(properties: dict[str, Any], required: list[str], **options: Any) -> dict[str, Any]:
    """box@1's definition over a closed object of ``properties``."""
    schema = object_schema(properties, required)
    return jsonschema_contract(name="box", version=1, schema=schema, **options).definition()


def lines(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """The diff, one line per change."""
    return [change.describe() for change in diff_definitions(old, new)]


def test_shipment_v1_to_v2(registry: Registry) -> None:
    """The shipped evolution: backend, description, priority out, service_level and reference in, rule."""
    v1, v2 = registry.require("shipment@1"), registry.require("shipment@2")
    found = lines(v1.definition(), v2.definition())
    assert found[0] == "changed  backend: pydantic → jsonschema"
    assert found[1].startswith('changed  description: "A shipment handed to the carrier." → "A shipment')
    assert found[2:] == [
        "removed  field priority: required integer, >= 1, <= 3",
        'added    field service_level: required string, one of "express", "standard", "economy"',
        "added    field reference: optional string, at least 1 character(s), at most 64 character(s)",
        "changed  rule max_weight: weight_kg <= 1000 → weight_kg <= 1500",
        'changed  rule max_weight: message "Shipments heavier than 1000 kg need a freight booking, not this '
        'channel." → "Shipments heavier than 1500 kg need a freight booking, not this channel."',
    ]


def test_field_aspects_each_show_before_and_after() -> None:
    """Type, required, constraints and descriptions changes are one line each, with both values."""
    old = definition(
        {"size": {"type": "integer", "maximum": 10, "description": "How big."}, "note": {"type": "string"}},
        ["size"],
    )
    new = definition({"size": {"type": "number", "minimum": 1}, "note": {"type": "string"}}, ["size", "note"])
    assert lines(old, new) == [
        "changed  field size: type integer → number",
        "changed  field size: maximum 10 → (none)",
        "changed  field size: minimum (none) → 1",
        'changed  field size: description "How big." → (none)',
        "changed  field note: required no → yes",
    ]


def test_nested_fields_and_array_items_have_paths() -> None:
    """Changes inside objects and array items name the dotted path, with [] for every item."""
    item = object_schema({"sku": {"type": "string"}}, ["sku"])
    wider = object_schema({"sku": {"type": "string"}, "qty": {"type": "integer"}}, ["sku"])
    old = definition({"items": {"type": "array", "items": item}}, [])
    new = definition({"items": {"type": "array", "items": {**wider, "additionalProperties": True}}}, [])
    assert lines(old, new) == [
        "changed  field items[]: unknown fields rejected → allowed",
        "added    field items[].qty: optional integer",
    ]


def test_rules_and_identity() -> None:
    """Rules are matched by name (added, removed, changed); an identity change is its own line."""
    schema = {"size": {"type": "integer"}, "code": {"type": "string"}}
    other = Rule(name="positive", field="size", op="gt", value=0, message="Empty.")
    old = definition(schema, ["size", "code"], rules=[RULE], identity=["size"])
    new = definition(schema, ["size", "code"], rules=[other], identity=["code"])
    assert lines(old, new) == [
        'changed  identity fields: ["size"] → ["code"]',
        "removed  rule small: size <= 10",
        "added    rule positive: size > 0",
    ]


def test_identical_definitions_have_no_changes(registry: Registry) -> None:
    """A version compared with itself has no changes."""
    v2 = registry.require("shipment@2").definition()
    assert diff_definitions(v2, v2) == []


class _Parcel(ContractModel):
    """A parcel."""

    code: str = Field(min_length=1)
    note: str | None = Field(default=None, max_length=20)


def test_pydantic_optional_fields_compare_with_json_schema_ones() -> None:
    """Pydantic's Optional field (anyOf with null) compares as one field of two types, titles ignored."""
    pydantic = pydantic_contract(name="parcel", version=1, model=_Parcel).definition()
    schema = object_schema(
        {"code": {"type": "string", "minLength": 1}, "note": {"type": ["string", "null"], "maxLength": 20}},
        ["code"],
    )
    twin = jsonschema_contract(name="parcel", version=1, schema=schema, description="A parcel.").definition()
    assert lines(pydantic, twin) == [
        "changed  backend: pydantic → jsonschema",
        "changed  field note: default null → (none)",
    ]
    assert (
        shape_of(pydantic["schema"]).fields["note"].describe()
        == "optional string or null, at most 20 character(s)"
    )
