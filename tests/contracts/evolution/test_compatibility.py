"""Compatibility checks: every breaking change found and explained, in the direction(s) the mode asks."""

from typing import Any

import pytest

from contract_support import object_schema
from sigma_aetl.contracts import Rule, jsonschema_contract
from sigma_aetl.contracts.evolution.compatibility import Mode, Report, check, contained, rule_accepts_all
from sigma_aetl.contracts.registry import Registry

ID = {"type": "string", "minLength": 1}


def definition(
    version: int,
    properties: dict[str, Any],
    required: list[str] | None = None,
    *,
    rules: list[Rule] | None = None,
    identity: list[str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The definition of box@version over ``properties`` (plus a required ``id``)."""
    schema = object_schema({"id": ID, **properties}, ["id", *(required or [])], **extra)
    contract = jsonschema_contract(
        name="box", version=version, schema=schema, rules=rules or [], identity=identity or ["id"]
    )
    return contract.definition()


def kinds(report: Report) -> list[tuple[str, str, str]]:
    """(direction, kind, subject) of each problem."""
    return [(p.direction, p.kind, p.subject) for p in report.problems]


def backward(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, str]]:
    """(kind, subject) of each backward problem."""
    return [(kind, subject) for _, kind, subject in kinds(check(old, new, Mode.BACKWARD))]


SIZE = {"type": "integer", "minimum": 0, "maximum": 10}


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ({}, {"size": SIZE}, [("new_required_field", "size")]),
        ({"size": SIZE}, {}, [("removed_field_closed_model", "size")]),
        ({"size": {"type": "number"}}, {"size": {"type": "integer"}}, [("type_narrowed", "size")]),
        ({"size": {}}, {"size": {"type": "integer"}}, [("type_narrowed", "size")]),
        ({"size": SIZE}, {"size": {**SIZE, "minimum": 1}}, [("constraint_tightened", "size")]),
        ({"size": SIZE}, {"size": {**SIZE, "maximum": 9}}, [("constraint_tightened", "size")]),
        ({"size": SIZE}, {"size": {**SIZE, "exclusiveMaximum": 10}}, [("constraint_tightened", "size")]),
        ({"size": {"type": "integer"}}, {"size": SIZE}, [("constraint_tightened", "size")] * 2),
        (
            {"size": {"type": "string"}},
            {"size": {"type": "string", "minLength": 2}},
            [("constraint_tightened", "size")],
        ),
        (
            {"size": {"type": "string", "maxLength": 9}},
            {"size": {"type": "string", "maxLength": 5}},
            [("constraint_tightened", "size")],
        ),
        ({"size": {"enum": ["s", "m", "l"]}}, {"size": {"enum": ["s", "m"]}}, [("enum_narrowed", "size")]),
        (
            {"size": {"type": "string"}},
            {"size": {"type": "string", "enum": ["s"]}},
            [("constraint_added", "size")],
        ),
        (
            {"size": {"type": "string"}},
            {"size": {"type": "string", "pattern": "^s"}},
            [("constraint_added", "size")],
        ),
        (
            {"size": {"type": "string", "pattern": "^[a-z]+$"}},
            {"size": {"type": "string", "pattern": "^[a-z]*$"}},
            [("constraint_changed", "size")],
        ),
        (
            {"size": {"type": "integer", "multipleOf": 2}},
            {"size": {"type": "integer", "multipleOf": 4}},
            [("constraint_tightened", "size")],
        ),
        (
            {"size": {"type": "array"}},
            {"size": {"type": "array", "uniqueItems": True}},
            [("constraint_tightened", "size")],
        ),
        (
            {"size": {"type": "object", "additionalProperties": True, "properties": {}}},
            {"size": {"type": "object", "additionalProperties": False, "properties": {}}},
            [("content_model_closed", "size")],
        ),
        (
            {
                "size": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"a": {}},
                    "required": ["a"],
                }
            },
            {"size": {"type": "object", "additionalProperties": False, "properties": {}}},
            [("removed_field_closed_model", "size.a")],
        ),
        (
            {"size": {"type": "array", "items": {"type": "number"}}},
            {"size": {"type": "array", "items": {"type": "integer"}}},
            [("type_narrowed", "size[]")],
        ),
    ],
)
def test_each_kind_of_breaking_change(old: dict[str, Any], new: dict[str, Any], expected: list[Any]) -> None:
    """Each backward-breaking schema change is found on its field and named by its kind."""
    required = ["size"] if "size" in new else []
    before = definition(1, old, ["size"] if "size" in old and "size" in new else [])
    after = definition(2, new, required)
    assert backward(before, after) == expected


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ({"size": SIZE}, {"size": {**SIZE, "minimum": -1, "maximum": 11}}),
        ({"size": {"type": "integer"}}, {"size": {"type": "number"}}),
        ({"size": {"type": "string", "minLength": 3}}, {"size": {"type": "string"}}),
        ({"size": {"enum": ["s", "m"]}}, {"size": {"enum": ["s", "m", "l"]}}),
        ({"size": {"type": "integer", "multipleOf": 4}}, {"size": {"type": "integer", "multipleOf": 2}}),
        (
            {"size": {"type": "string", "pattern": "^s", "description": "a"}},
            {"size": {"type": "string", "description": "b"}},
        ),
        (
            {"size": {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "number", "minimum": 5}]}},
            {"size": {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "number", "minimum": 4}]}},
        ),
    ],
)
def test_loosening_is_backward_compatible(old: dict[str, Any], new: dict[str, Any]) -> None:
    """Widened bounds, types and enums, dropped constraints and proven rewrites break nothing backward."""
    assert backward(definition(1, old), definition(2, new)) == []


def test_a_new_optional_field_is_backward_but_not_forward_compatible() -> None:
    """Adding an optional field to a closed model keeps old events valid, but old readers reject new ones."""
    old, new = definition(1, {}), definition(2, {"note": {"type": "string"}})
    assert kinds(check(old, new, Mode.BACKWARD)) == []
    assert kinds(check(old, new, Mode.FORWARD)) == [("forward", "removed_field_closed_model", "note")]
    assert kinds(check(old, new, Mode.FULL)) == [("forward", "removed_field_closed_model", "note")]


def test_a_new_field_in_an_open_model_constrains_old_events() -> None:
    """When the old model accepted unknown fields, a new typed field may reject what old events carried."""
    old = definition(1, {}, additionalProperties=True)
    new = definition(2, {"note": {"type": "string"}}, additionalProperties=True)
    assert backward(old, new) == [("field_in_open_model", "note")]
    removed = backward(definition(1, {"note": {"type": "string"}}, additionalProperties=True), old)
    assert removed == []


def test_closing_the_payload_is_breaking() -> None:
    """Turning an open payload into a closed one rejects the unknown fields old events could carry."""
    old, new = definition(1, {}, additionalProperties=True), definition(2, {})
    assert backward(old, new) == [("content_model_closed", "(payload)")]


def test_a_field_becoming_required_is_breaking() -> None:
    """An optional field that becomes required breaks old events that left it out."""
    old, new = (
        definition(1, {"note": {"type": "string"}}),
        definition(2, {"note": {"type": "string"}}, ["note"]),
    )
    assert backward(old, new) == [("field_became_required", "note")]
    assert kinds(check(old, new, Mode.FORWARD)) == []


RULE = Rule(name="small", field="size", op="le", value=10, message="Too big.")


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ([], [RULE], [("rule_added", "rule small")]),
        ([RULE], [], []),
        ([RULE], [RULE.model_copy(update={"value": 5})], [("rule_tightened", "rule small")]),
        ([RULE], [RULE.model_copy(update={"op": "lt"})], [("rule_tightened", "rule small")]),
        ([RULE], [RULE.model_copy(update={"value": 11, "message": "Bigger now."})], []),
        ([RULE], [RULE.model_copy(update={"op": "ge", "value": 1})], [("rule_changed", "rule small")]),
        ([RULE], [RULE.model_copy(update={"field": "width"})], [("rule_changed", "rule small")]),
    ],
)
def test_rules_are_checked_like_constraints(old: list[Rule], new: list[Rule], expected: list[Any]) -> None:
    """A new or tightened business rule is breaking backward; a relaxed or removed one is not."""
    schema = {"size": {"type": "integer"}, "width": {"type": "integer"}}
    assert backward(definition(1, schema, rules=old), definition(2, schema, rules=new)) == expected


@pytest.mark.parametrize(
    ("old", "new", "accepts"),
    [
        (("in", ["a", "b"]), ("in", ["a", "b", "c"]), True),
        (("in", ["a", "b"]), ("in", ["a"]), False),
        (("not_in", ["a"]), ("not_in", []), True),
        (("not_in", []), ("not_in", ["a"]), False),
        (("ge", 1), ("gt", 0), True),
        (("ge", 1), ("gt", 1), False),
        (("le", "m"), ("le", "z"), True),
        (("le", 1), ("le", "z"), False),
        (("eq", 1), ("eq", 1.0), True),
    ],
)
def test_rule_relaxation(old: tuple[str, Any], new: tuple[str, Any], accepts: bool) -> None:
    """A rule accepts everything another did only when provably looser (same field, comparable values)."""
    before = Rule(name="r", field="size", op=old[0], value=old[1], message=".")
    after = Rule(name="r", field="size", op=new[0], value=new[1], message=".")
    assert rule_accepts_all(before, after) is accepts


def test_identity_change_is_reported_once_in_every_mode() -> None:
    """Changing the identity fields breaks deduplication whichever way events flow; it is reported once."""
    old = definition(1, {"code": {"type": "string"}}, ["code"])
    new = definition(2, {"code": {"type": "string"}}, ["code"], identity=["code"])
    for mode in Mode:
        assert kinds(check(old, new, mode)) == [("both", "identity_changed", "identity")]
    [problem] = check(old, new, Mode.BACKWARD).problems
    assert problem.explanation == (
        "identity: records were identified by id, now by code: the same event gets another identity, "
        "so duplicates and identity conflicts are no longer detected the same way."
    )


def test_a_change_no_field_explains_is_caught_by_containment() -> None:
    """A narrowing hidden behind an anchor reference is still reported, by the containment check."""
    number: dict[str, Any] = {"$defs": {"n": {"$anchor": "n", "type": "number"}}}
    integer: dict[str, Any] = {"$defs": {"n": {"$anchor": "n", "type": "integer"}}}
    old = definition(1, {"x": {"$ref": "#n"}}, **number)
    new = definition(2, {"x": {"$ref": "#n"}}, **integer)
    [problem] = check(old, new, Mode.BACKWARD).problems
    assert (problem.kind, problem.subject) == ("schema_not_contained", "(payload)")
    assert "box@2's schema is not proven to accept every event box@1's accepts" in problem.explanation


@pytest.mark.parametrize(
    "schema",
    [{"type": 5}, {"pattern": "("}, {"$ref": "#/$defs/missing"}],
    ids=["not-a-schema", "bad-pattern", "dangling-ref"],
)
def test_a_schema_jsonschema_rs_cannot_canonicalise_leaves_containment_unknown(
    schema: dict[str, Any],
) -> None:
    """A schema the canonical form cannot take decides nothing either way ("unknown"), and raises nothing."""
    assert contained({"type": "integer"}, {"type": "number"}) == "yes"
    assert contained(schema, {"type": "number"}) == "unknown"
    assert contained({"type": "integer"}, schema) == "unknown"


def test_shipment_v2_breaks_both_ways_and_says_why(registry: Registry) -> None:
    """shipment@1 → @2 breaks backward on service_level and priority; forward also on reference and rule."""
    v1, v2 = registry.require("shipment@1").definition(), registry.require("shipment@2").definition()
    assert [(p.kind, p.explanation) for p in check(v1, v2, Mode.BACKWARD).problems] == [
        (
            "removed_field_closed_model",
            "priority: defined by shipment@1 but not by shipment@2, which rejects unknown fields; "
            "shipment@1 events carrying it fail.",
        ),
        (
            "new_required_field",
            "service_level: required by shipment@2 but not defined by shipment@1; shipment@1 events lack it.",
        ),
    ]
    assert kinds(check(v1, v2, Mode.FORWARD)) == [
        ("forward", "removed_field_closed_model", "service_level"),
        ("forward", "removed_field_closed_model", "reference"),
        ("forward", "new_required_field", "priority"),
        ("forward", "rule_tightened", "rule max_weight"),
    ]
    assert len(check(v1, v2, Mode.FULL).problems) == 6
    assert check(v1, v1, Mode.FULL).compatible
    assert check(v2, v2, Mode.FULL).compatible
