"""Content models: an object closed by ``unevaluatedProperties`` loads; an accidentally open one does not."""

import json
from typing import Any

import pytest

from sigma_aetl.contracts import Rule, jsonschema_contract
from sigma_aetl.core.contract import Contract
from sigma_aetl.core.taxonomy import RootCause
from sigma_aetl.core.validator import validate
from sigma_aetl.errors import ContractLoadError

ID = {"id": {"type": "string"}}
NAME = {"name": {"type": "string"}}


def composed(**members: Any) -> dict[str, Any]:
    """A root object schema holding ``members`` (``$defs`` may be passed as ``defs``)."""
    if "defs" in members:
        members["$defs"] = members.pop("defs")
    return {"type": "object", **members}


def contract(schema: dict[str, Any]) -> Contract:
    """thing@1 over ``schema``."""
    return jsonschema_contract(name="thing", version=1, schema=schema)


CLOSED_BY_UNEVALUATED = {
    "allOf": (
        {"id": "x", "name": "n"},
        composed(allOf=[{"properties": ID}], properties=NAME, unevaluatedProperties=False),
    ),
    "anyOf": (
        {"id": "x"},
        composed(anyOf=[{"properties": ID}, {"properties": NAME}], unevaluatedProperties=False),
    ),
    "oneOf": (
        {"id": "x"},
        composed(oneOf=[{"properties": ID, "required": ["id"]}], unevaluatedProperties=False),
    ),
    "if-then-else": (
        {"kind": "a", "id": "x"},
        composed(
            properties={"kind": {"enum": ["a", "b"]}},
            required=["kind"],
            **{"if": {"properties": {"kind": {"const": "a"}}}},
            then={"properties": ID},
            **{"else": {"properties": NAME}},
            unevaluatedProperties=False,
        ),
    ),
    "$ref": (
        {"id": "x", "name": "n"},
        composed(
            **{"$ref": "#/$defs/base"},
            properties=NAME,
            defs={"base": {"properties": ID}},
            unevaluatedProperties=False,
        ),
    ),
    "$dynamicRef": (
        {"id": "x", "name": "n"},
        composed(
            **{"$dynamicRef": "#base"},
            properties=NAME,
            defs={"base": {"$dynamicAnchor": "base", "properties": ID}},
            unevaluatedProperties=False,
        ),
    ),
    "nested allOf": (
        {"id": "x", "name": "n"},
        composed(allOf=[{"allOf": [{"properties": ID}]}], properties=NAME, unevaluatedProperties=False),
    ),
    "dependentSchemas": (
        {"id": "x", "name": "n"},
        composed(properties=NAME, dependentSchemas={"name": {"properties": ID}}, unevaluatedProperties=False),
    ),
    "a nested object": (
        {"box": {"id": "x"}},
        composed(
            additionalProperties=False,
            properties={
                "box": {"type": "object", "allOf": [{"properties": ID}], "unevaluatedProperties": False}
            },
        ),
    ),
}


@pytest.mark.parametrize(
    ("event", "schema"), CLOSED_BY_UNEVALUATED.values(), ids=CLOSED_BY_UNEVALUATED.keys()
)
def test_unevaluated_properties_closes_a_composed_object(
    event: dict[str, Any], schema: dict[str, Any]
) -> None:
    """``unevaluatedProperties: false`` on the combining schema is the explicit statement: it loads, and
    rejects an unknown field beside the fields its parts define."""
    thing = contract(schema)
    assert validate(thing, json.dumps(event).encode()).passed
    box = "box" in event
    extra = {"box": {**event["box"], "extra": 1}} if box else {**event, "extra": 1}
    decision = validate(thing, json.dumps(extra).encode())
    path = "box.extra" if box else "extra"
    assert [(e.path, e.root_cause) for e in decision.errors] == [(path, RootCause.UNEXPECTED_FIELD)]


def test_an_explicitly_open_composed_object_keeps_unknown_fields() -> None:
    """``unevaluatedProperties: true`` on the combining schema says the object is open."""
    thing = contract(composed(allOf=[{"properties": ID}], unevaluatedProperties=True))
    assert validate(thing, b'{"id": "x", "extra": 1}').passed
    assert thing.allow_extra


def test_branches_of_a_closed_object_need_no_statement() -> None:
    """An ``anyOf`` branch constraining fields of an object closed by its own ``additionalProperties`` adds
    constraints only: it loads."""
    thing = contract(
        composed(
            additionalProperties=False,
            properties={"id": {"type": "string"}, "n": {"type": "integer"}},
            anyOf=[{"properties": {"n": {"minimum": 0}}}, {"required": ["id"]}],
        )
    )
    assert not validate(thing, b'{"n": -1}').passed


def test_conditions_are_not_content_models() -> None:
    """Properties inside ``if``, ``not`` and ``contains`` test a value; they describe no content and need no
    statement."""
    thing = contract(
        composed(
            additionalProperties=False,
            properties={"kind": {"type": "string"}, "a": {"type": "integer"}, "list": {"type": "array"}},
            **{"if": {"properties": {"kind": {"const": "a"}}}},
            then={"required": ["a"]},
            **{"not": {"properties": {"kind": {"const": "z"}}, "required": ["kind"]}},
        )
    )
    assert not validate(thing, b'{"kind": "a"}').passed
    assert validate(thing, b'{"kind": "b"}').passed


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        (
            composed(allOf=[{"properties": ID}]),
            "the object schema at the root does not say whether fields it does not define are allowed",
        ),
        (
            composed(
                additionalProperties=False,
                properties={"box": {"type": "object", "allOf": [{"properties": ID}]}},
            ),
            "the object schema at /properties/box/allOf/0 does not say whether fields it does not define are "
            'allowed: add "additionalProperties": false (rejected) or true (kept) to it, or '
            '"unevaluatedProperties": false or true to /properties/box, which combines it',
        ),
        (
            composed(
                additionalProperties=False,
                properties={"box": {"$ref": "#/$defs/box"}},
                defs={"box": {"type": "object", "properties": ID}},
            ),
            "the object schema at /$defs/box (used at /properties/box) does not say",
        ),
        (
            composed(
                **{"$ref": "#/$defs/box"},
                unevaluatedProperties=False,
                properties={"box": {"$ref": "#/$defs/box"}},
                defs={"box": {"type": "object", "properties": ID}},
            ),
            "the object schema at /$defs/box (used at /properties/box) does not say",
        ),
        (
            composed(additionalProperties=False, defs={"unused": {"properties": ID}}),
            "the object schema at /$defs/unused (not used by the schema) does not say",
        ),
        (
            composed(
                additionalProperties=False,
                properties={"a/b": {"type": "object", "properties": ID}},
            ),
            "the object schema at /properties/a~1b does not say",
        ),
    ],
)
def test_accidentally_open_objects_are_refused(schema: dict[str, Any], message: str) -> None:
    """An object schema that lists properties while nothing at its level states the content model is a load
    error naming its location and how to close it."""
    with pytest.raises(ContractLoadError) as caught:
        contract(schema)
    assert message in str(caught.value)


BASED = composed(
    allOf=[{"$ref": "#/$defs/base"}],
    properties={"weight": {"type": "number"}},
    unevaluatedProperties=False,
    defs={"base": {"properties": {"id": {"type": "string"}, "n": {"type": "integer"}}, "required": ["id"]}},
)


def test_identity_and_rules_reach_the_parts_of_a_composed_object() -> None:
    """Fields a composed object's ``allOf`` parts define can be the identity and be read by rules."""
    rule = Rule(name="small", field="n", op="le", value=3, message="n is at most 3.")
    heavy = Rule(name="light", field="weight", op="le", value=10, message="At most 10.")
    thing = jsonschema_contract(name="thing", version=1, schema=BASED, identity=["id"], rules=[rule, heavy])
    assert validate(thing, b'{"id": "a", "n": 2, "weight": 1}').passed
    broken = validate(thing, b'{"id": "a", "n": 5, "weight": 11}')
    assert [(e.path, e.rule) for e in broken.errors] == [("n", "small"), ("weight", "light")]


def test_an_identity_no_part_requires_is_refused() -> None:
    """An identity field that no part of the composition requires may be absent: refused."""
    with pytest.raises(ContractLoadError, match="identity field n is optional"):
        jsonschema_contract(name="thing", version=1, schema=BASED, identity=["n"])


def test_a_ref_beside_properties_keeps_both() -> None:
    """A rule may read a field defined beside a ``$ref`` as well as one the reference defines."""
    schema = {**BASED, "$ref": "#/$defs/base"}
    del schema["allOf"]
    rule = Rule(name="light", field="weight", op="le", value=10, message="At most 10.")
    thing = jsonschema_contract(name="thing", version=1, schema=schema, identity=["id"], rules=[rule])
    assert [e.rule for e in validate(thing, b'{"id": "a", "weight": 11}').errors] == ["light"]
