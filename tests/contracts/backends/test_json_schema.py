"""The JSON Schema backend: Draft 2020-12 compiled once, strict, shared error taxonomy, no mutation."""

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import given, settings

from contract_support import document, object_schema, write_json_contract
from sigma_aetl.contracts import Rule, jsonschema_contract
from sigma_aetl.contracts.backends.json_schema import contract_from_document
from sigma_aetl.contracts.loader import load_registry
from sigma_aetl.core.canonical import canonical
from sigma_aetl.core.contract import Contract
from sigma_aetl.core.decision import Decision
from sigma_aetl.core.taxonomy import RootCause, Stage
from sigma_aetl.core.validator import validate
from sigma_aetl.errors import ContractLoadError
from strategies import json_objects, json_values

ITEM = object_schema({"sku": {"type": "string", "pattern": "^SKU-"}}, required=["sku"])
SCHEMA = object_schema(
    {
        "code": {"type": "string", "minLength": 2, "maxLength": 4},
        "count": {"type": "integer", "minimum": 1, "maximum": 3},
        "price": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 100},
        "step": {"type": "integer", "multipleOf": 5},
        "level": {"type": "string", "enum": ["low", "high"]},
        "kind": {"const": "box"},
        "day": {"type": "string", "format": "date"},
        "tags": {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"type": "string"}},
        "items": {"type": "array", "items": ITEM},
        "note": {"type": ["string", "null"], "default": "none"},
    },
    required=["code", "count"],
)
VALID = {"code": "AB", "count": 2}


def contract(schema: dict[str, Any] = SCHEMA, **options: Any) -> Contract:
    """thing@1 over ``schema``."""
    return jsonschema_contract(name="thing", version=1, schema=schema, **options)


def decide(payload: Any, schema: dict[str, Any] = SCHEMA) -> Decision:
    """The decision for ``payload`` (a JSON value) against thing@1."""
    return validate(contract(schema), json.dumps(payload).encode())


def only_error(payload: Any) -> tuple[str, str, RootCause, str | None, str]:
    """(path, type, root cause, constraint, explanation) of the one error ``payload`` has."""
    decision = decide(payload)
    [error] = decision.errors
    assert error.stage is Stage.SCHEMA
    return error.path, error.type, error.root_cause, error.constraint, error.explanation


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"count": ...},
            (
                "count",
                "required",
                RootCause.MISSING_FIELD,
                "required",
                "count: required, but the field is missing.",
            ),
        ),
        (
            {"code": 7},
            (
                "code",
                "type",
                RootCause.TYPE_MISMATCH,
                "a string",
                "code: expected a string, received 7 (an integer).",
            ),
        ),
        (
            {"count": "2"},
            (
                "count",
                "type",
                RootCause.TYPE_MISMATCH,
                "an integer",
                'count: expected an integer, received "2" (a string).',
            ),
        ),
        (
            {"count": 2.0},
            (
                "count",
                "type",
                RootCause.TYPE_MISMATCH,
                "an integer",
                "count: expected an integer, received 2.0 (a number).",
            ),
        ),
        (
            {"count": 5.0},
            (
                "count",
                "type",
                RootCause.TYPE_MISMATCH,
                "an integer",
                "count: expected an integer, received 5.0 (a number).",
            ),
        ),
        (
            {"count": 2.5},
            (
                "count",
                "type",
                RootCause.TYPE_MISMATCH,
                "an integer",
                "count: expected an integer, received 2.5 (a number).",
            ),
        ),
        (
            {"count": True},
            (
                "count",
                "type",
                RootCause.TYPE_MISMATCH,
                "an integer",
                "count: expected an integer, received true (a boolean).",
            ),
        ),
        (
            {"price": False},
            (
                "price",
                "type",
                RootCause.TYPE_MISMATCH,
                "a number",
                "price: expected a number, received false (a boolean).",
            ),
        ),
        (
            {"note": 3},
            (
                "note",
                "type",
                RootCause.TYPE_MISMATCH,
                "a string or null",
                "note: expected a string or null, received 3 (an integer).",
            ),
        ),
        (
            {"count": 0},
            (
                "count",
                "minimum",
                RootCause.CONSTRAINT_VIOLATION,
                ">= 1",
                "count: expected a value >= 1, received 0 (an integer).",
            ),
        ),
        (
            {"count": 4},
            (
                "count",
                "maximum",
                RootCause.CONSTRAINT_VIOLATION,
                "<= 3",
                "count: expected a value <= 3, received 4 (an integer).",
            ),
        ),
        (
            {"price": 0},
            (
                "price",
                "exclusiveMinimum",
                RootCause.CONSTRAINT_VIOLATION,
                "> 0",
                "price: expected a value > 0, received 0 (an integer).",
            ),
        ),
        (
            {"price": 100.0},
            (
                "price",
                "exclusiveMaximum",
                RootCause.CONSTRAINT_VIOLATION,
                "< 100",
                "price: expected a value < 100, received 100.0 (a number).",
            ),
        ),
        (
            {"code": "A"},
            (
                "code",
                "minLength",
                RootCause.CONSTRAINT_VIOLATION,
                "at least 2 character(s)",
                'code: expected at least 2 character(s), received "A" (a string).',
            ),
        ),
        (
            {"code": "ABCDE"},
            (
                "code",
                "maxLength",
                RootCause.CONSTRAINT_VIOLATION,
                "at most 4 character(s)",
                'code: expected at most 4 character(s), received "ABCDE" (a string).',
            ),
        ),
        (
            {"step": 7},
            (
                "step",
                "multipleOf",
                RootCause.CONSTRAINT_VIOLATION,
                "a multiple of 5",
                "step: expected a multiple of 5, received 7 (an integer).",
            ),
        ),
        (
            {"level": "mid"},
            (
                "level",
                "enum",
                RootCause.CONSTRAINT_VIOLATION,
                'one of "low", "high"',
                'level: expected one of "low", "high", received "mid" (a string).',
            ),
        ),
        (
            {"kind": "bag"},
            (
                "kind",
                "const",
                RootCause.CONSTRAINT_VIOLATION,
                'exactly "box"',
                'kind: expected exactly "box", received "bag" (a string).',
            ),
        ),
        (
            {"day": "2024-13-01"},
            (
                "day",
                "format",
                RootCause.CONSTRAINT_VIOLATION,
                "a string in date format",
                'day: expected a string in date format, received "2024-13-01" (a string).',
            ),
        ),
        (
            {"tags": []},
            (
                "tags",
                "minItems",
                RootCause.CONSTRAINT_VIOLATION,
                "at least 1 item(s)",
                "tags: expected at least 1 item(s), received [] (an array).",
            ),
        ),
        (
            {"tags": ["a", "a"]},
            (
                "tags",
                "uniqueItems",
                RootCause.CONSTRAINT_VIOLATION,
                "unique items",
                'tags: expected unique items, received ["a","a"] (an array).',
            ),
        ),
        (
            {"items": [{"sku": "SKU-1"}, {"sku": "X"}]},
            (
                "items[1].sku",
                "pattern",
                RootCause.CONSTRAINT_VIOLATION,
                "a string matching ^SKU-",
                'items[1].sku: expected a string matching ^SKU-, received "X" (a string).',
            ),
        ),
        (
            {"items": [{}]},
            (
                "items[0].sku",
                "required",
                RootCause.MISSING_FIELD,
                "required",
                "items[0].sku: required, but the field is missing.",
            ),
        ),
    ],
)
def test_each_keyword_maps_onto_the_taxonomy(change: dict[str, Any], expected: tuple[Any, ...]) -> None:
    """Every JSON Schema keyword's error gets the shared path, root cause, constraint and explanation."""
    payload = {k: v for k, v in {**VALID, **change}.items() if v is not ...}
    assert only_error(payload) == expected


def test_one_error_per_unknown_field_at_its_own_path() -> None:
    """Unknown fields are rejected one error each, at the field's path, including inside arrays."""
    decision = decide({**VALID, "colour": "red", "size": [1], "items": [{"sku": "SKU-1", "x": None}]})
    assert decision.root_cause is RootCause.UNEXPECTED_FIELD
    found = [(e.path, e.loc, e.type, e.root_cause, e.constraint) for e in decision.errors]
    cause = RootCause.UNEXPECTED_FIELD
    assert found == [
        ("items[0].x", ("items", 0, "x"), "additionalProperties", cause, "no unknown fields"),
        ("colour", ("colour",), "additionalProperties", cause, "no unknown fields"),
        ("size", ("size",), "additionalProperties", cause, "no unknown fields"),
    ]
    assert decision.errors[1].explanation == (
        'colour: not a field of this contract (unknown fields are not allowed); received "red" (a string).'
    )


def test_every_error_is_reported_in_field_order() -> None:
    """All errors are reported, declared fields in schema order first, then unknown fields as they arrived."""
    decision = decide({"zz": 1, "count": 9, "code": 1, "aa": 2})
    assert [(e.path, e.root_cause) for e in decision.errors] == [
        ("code", RootCause.TYPE_MISMATCH),
        ("count", RootCause.CONSTRAINT_VIOLATION),
        ("zz", RootCause.UNEXPECTED_FIELD),
        ("aa", RootCause.UNEXPECTED_FIELD),
    ]
    assert decision.root_cause is RootCause.UNEXPECTED_FIELD


def test_a_wrong_type_reports_only_its_type() -> None:
    """A value of the wrong type is one type_mismatch, never also a constraint violation on the same path."""
    assert [(e.path, e.type) for e in decide({**VALID, "count": 3.5}).errors] == [("count", "type")]
    assert [(e.path, e.type) for e in decide({**VALID, "count": 9.0}).errors] == [("count", "type")]


def test_numbers_accept_integers_and_integers_stay_strict() -> None:
    """A number field accepts 5 and 5.5; an integer field accepts 2 and huge integers, never 2.0."""
    assert decide({**VALID, "price": 5}).passed
    assert decide({**VALID, "price": 5.5}).passed
    assert decide({**VALID, "step": 10**30}).passed
    assert not decide({**VALID, "step": 10.0}).passed


def test_strict_integers_reach_every_integer_subschema() -> None:
    """2.0 is refused wherever an integer is expected: in arrays, unions, definitions and combinators."""
    schema = object_schema(
        {
            "list": {"type": "array", "items": {"type": "integer"}},
            "maybe": {"type": ["integer", "null"]},
            "ref": {"$ref": "#/$defs/count"},
            "any": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
            "wide": {"type": ["integer", "number"]},
        },
        required=[],
        **{"$defs": {"count": {"type": "integer"}}},
    )
    bad = {"list": [1, 2.0], "maybe": 3.0, "ref": 4.0, "any": 5.0}
    failed = decide(bad, schema)
    assert sorted(e.path for e in failed.errors) == ["any", "list[1]", "maybe", "ref"]
    assert decide({"list": [1], "maybe": None, "ref": 4, "any": "x", "wide": 6.0}, schema).passed


@settings(max_examples=200, deadline=None)
@given(json_objects)
def test_validation_never_mutates_and_never_fills_defaults(value: dict[str, Any]) -> None:
    """The payload is never changed; an accepted record holds exactly what was sent (no defaults)."""
    schema = {"type": "object", "additionalProperties": True, "properties": {"note": {"default": "x"}}}
    checked = contract(schema)
    before = copy.deepcopy(value)
    assert checked.check("", value) == []
    assert value == before
    decision = validate(checked, json.dumps(value).encode())
    assert decision.passed
    assert decision.data == canonical(json.loads(json.dumps(value)))


def test_jsonschema_rs_itself_leaves_the_instance_alone() -> None:
    """jsonschema-rs neither fills a ``default`` in nor changes a value, valid or not."""
    validator = jsonschema_rs.validator_for(
        {"type": "object", "properties": {"a": {"type": "integer", "default": 5}}, "required": ["b"]}
    )
    instance: dict[str, Any] = {"c": [1, {"d": 2.0}]}
    assert list(validator.iter_errors(instance))
    assert instance == {"c": [1, {"d": 2.0}]}


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_never_raises_on_any_json(value: Any) -> None:
    """Any JSON value gets a decision, never an exception."""
    decision = validate(contract(), json.dumps(value).encode())
    assert decision.status in ("PASSED", "FAILED")


def test_schema_is_compiled_once_per_version(monkeypatch: pytest.MonkeyPatch) -> None:
    """The schema is compiled when the contract is built, never again per event."""
    compiled: list[Any] = []
    original = jsonschema_rs.Draft202012Validator

    def counting(*args: Any, **kwargs: Any) -> Any:
        compiled.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(jsonschema_rs, "Draft202012Validator", counting)
    checked = contract()
    for payload in (VALID, {}, {"count": "x"}):
        validate(checked, json.dumps(payload).encode())
    assert len(compiled) == 1


def test_open_content_model_keeps_unknown_fields() -> None:
    """A schema with additionalProperties true accepts unknown fields and keeps them, and says so."""
    schema = {**SCHEMA, "additionalProperties": True}
    assert contract(schema).allow_extra is True
    assert contract().allow_extra is False
    assert decide({**VALID, "colour": "red"}, schema).data == {**VALID, "colour": "red"}


def test_the_callers_schema_cannot_change_the_contract() -> None:
    """The contract keeps its own copy of the schema: editing the caller's dict changes nothing."""
    schema = copy.deepcopy(SCHEMA)
    built = contract(schema)
    fingerprint = built.fingerprint
    schema["properties"]["count"]["maximum"] = 99
    assert built.fingerprint == fingerprint
    assert built.json_schema["properties"]["count"]["maximum"] == 3
    assert not validate(built, b'{"code": "AB", "count": 50}').passed


def closed(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` without ``additionalProperties`` at the root."""
    return {k: v for k, v in schema.items() if k != "additionalProperties"}


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"type": "array"}, 'must describe an object ("type": "object")'),
        (
            closed(SCHEMA),
            "the object schema at the root does not say whether fields it does not define are allowed",
        ),
        (
            object_schema({"inner": {"type": "object", "properties": {"a": {}}}}),
            "the object schema at /properties/inner does not say whether fields it does not define",
        ),
        ({**SCHEMA, "$schema": "http://json-schema.org/draft-07/schema#"}, "$schema must be"),
        ({**SCHEMA, "type": "objekt"}, 'not a valid JSON Schema: at /type: "objekt" is not a JSON type'),
        (
            object_schema({"d": {"type": "string", "format": "stardate"}}),
            "format 'stardate' is not one the validator knows",
        ),
        (
            object_schema({"d": {"$ref": "https://example.com/d.json"}}),
            "$ref 'https://example.com/d.json' points outside the contract file",
        ),
        (object_schema({"d": {"$ref": "#/$defs/D"}}), "$ref '#/$defs/D' points to nothing in the schema"),
        (
            object_schema({"a": {"type": "string"}}, ["a", "b"]),
            "the object schema at the root requires 'b' but does not define it",
        ),
        (
            object_schema({"inner": object_schema({"a": {}}, ["a", "z"])}),
            "the object schema at /properties/inner requires 'z' but does not define it",
        ),
        (
            object_schema({"items": {"type": "array", "items": object_schema({}, ["sku"])}}),
            "the object schema at /properties/items/items requires 'sku'",
        ),
        (object_schema({"d": {"x-sigma-strict-integer": True}}), "x-sigma-strict-integer is reserved"),
    ],
)
def test_schemas_that_are_not_strict_contracts_are_refused(schema: dict[str, Any], message: str) -> None:
    """A schema that is not a closed-by-default Draft 2020-12 object schema is a load error saying why."""
    with pytest.raises(ContractLoadError, match="thing@1: ") as caught:
        contract(schema)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert not any(
        word in str(caught.value) for word in ("Adjust configuration", "https://errors", "registry")
    )


def test_identity_and_rule_fields_must_be_properties() -> None:
    """Identity fields and rule fields must be properties of the schema."""
    with pytest.raises(ContractLoadError, match="'serial' is not a property"):
        contract(identity=["serial"])
    rule = Rule(name="cheap", field="cost", op="lt", value=5, message="Too dear.")
    with pytest.raises(ContractLoadError, match="rule cheap: cost is not a field of the contract"):
        contract(rules=[rule])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": "thing", "version": 1}, "schema: missing"),
        (
            {**document("thing", 1, SCHEMA), "extra": 1},
            "extra: not a member of a contract file (name, version",
        ),
        ({**document("thing", 1, SCHEMA), "version": "1"}, "version: Input should be a valid integer"),
        (
            document("thing", 1, SCHEMA, rules=[{"name": "r", "field": "count", "op": "le"}]),
            "rule r (rules[0]): message: missing",
        ),
        (
            document("thing", 1, SCHEMA, rules=[{"name": "r", "field": "count", "op": "lte", "value": 1}]),
            'rule r (rules[0]): op: "lte" is not an operator; use one of lt, le, gt, ge, eq, ne, in, not_in',
        ),
    ],
)
def test_contract_documents_are_checked(body: dict[str, Any], message: str) -> None:
    """A JSON contract document with a missing, unknown or mistyped member is refused, naming it."""
    with pytest.raises(ContractLoadError, match="not a JSON Schema contract") as caught:
        contract_from_document(body)
    assert message in str(caught.value)


def test_json_contract_files_load_beside_python_ones(tmp_path: Path) -> None:
    """v<N>.json files load with their source path, rules and identity, beside v<N>.py files."""
    rule = {"name": "few", "field": "count", "op": "le", "value": 2, "message": "Too many."}
    body = document("thing", 2, SCHEMA, identity=["code"], rules=[rule], description="A thing.")
    write_json_contract(tmp_path, body)
    contract = load_registry(tmp_path).require("thing@2")
    assert (contract.source, contract.backend, contract.description) == (
        "thing/v2.json",
        "jsonschema",
        "A thing.",
    )
    assert contract.identity == ("code",)
    decision = validate(contract, b'{"code": "AB", "count": 3}')
    assert decision.root_cause is RootCause.BUSINESS_RULE_VIOLATION


@pytest.mark.parametrize(
    ("text", "relative", "message"),
    [
        (
            json.dumps(document("thing", 1, SCHEMA)),
            "thing/v2.json",
            "declares thing@1 but its location says thing@2",
        ),
        (
            json.dumps(document("thing", 1, SCHEMA)),
            "other/v1.json",
            "declares thing@1 but its location says other@1",
        ),
        ('{"name": "thing", "name": "thing"}', "thing/v1.json", "appears twice"),
        ("{not json", "thing/v1.json", "Not valid JSON"),
        ("[1]", "thing/v1.json", "not a JSON Schema contract"),
    ],
)
def test_broken_json_contract_files_name_themselves(
    tmp_path: Path, text: str, relative: str, message: str
) -> None:
    """A JSON contract file that is misplaced, ambiguous or not a contract is refused with its path."""
    path = write_json_contract(tmp_path, text, relative)
    with pytest.raises(ContractLoadError) as caught:
        load_registry(tmp_path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


def test_one_version_in_two_formats_is_refused(tmp_path: Path) -> None:
    """thing/v1.py and thing/v1.json cannot both define thing@1."""
    write_json_contract(tmp_path, document("thing", 1, SCHEMA))
    (tmp_path / "thing" / "v1.py").write_text(
        "from sigma_aetl.contracts import jsonschema_contract\n"
        f"CONTRACT = jsonschema_contract(name='thing', version=1, schema={SCHEMA!r})\n"
    )
    with pytest.raises(ContractLoadError, match="thing@1 is defined twice"):
        load_registry(tmp_path)


def test_a_stray_file_in_a_contract_folder_is_refused(tmp_path: Path) -> None:
    """A file in a contract folder that is not v<N>.json or v<N>.py is refused, naming it; files beside the
    folders (the lock) and subfolders (caches) are not contract files."""
    write_json_contract(tmp_path, document("thing", 1, SCHEMA))
    (tmp_path / "v3.json").write_text("not json at all")
    (tmp_path / "thing" / "v4.json").mkdir()
    assert [c.ref for c in load_registry(tmp_path).all()] == ["thing@1"]
    for name in ("thing/v01.json", "thing/v2.json.bak", "thing/notes.json"):
        stray = tmp_path / name
        stray.write_text("not json at all")
        with pytest.raises(ContractLoadError, match=re.escape(f"{stray}: not a contract file")):
            load_registry(tmp_path)
        stray.unlink()
