"""A contract that would decide wrong is refused when it loads, in one line naming the file, the place and
the fix — never with a library's internal links or advice meant for its API."""

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from contract_support import document, object_schema, write_json_contract
from sigma_aetl.contracts.loader import load_registry
from sigma_aetl.errors import ContractLoadError

PYTHON_CONTRACT = """
    from pydantic import Field
    from sigma_aetl.contracts import ContractModel, Rule, pydantic_contract

    class Thing(ContractModel):
        id: str = Field(min_length=1)
        size: int = Field(ge=0)
        weight: float
        fragile: bool

    CONTRACT = pydantic_contract(
        name="thing",
        version=1,
        model=Thing,
        identity=["id"],
        rules=[Rule(name="small", field="{field}", op="{op}", value={value}, message="Too big.")],
    )
"""
PROPERTIES = {
    "id": {"type": "string"},
    "size": {"type": "integer"},
    "weight": {"type": "number"},
    "fragile": {"type": "boolean"},
}


def refusal(root: Path) -> str:
    """The one-line message of the ContractLoadError raised by loading ``root``."""
    with pytest.raises(ContractLoadError) as caught:
        load_registry(root)
    message = str(caught.value)
    assert "\n" not in message
    assert not any(word in message for word in ("errors.pydantic.dev", "Adjust configuration", "For further"))
    return message


def python_contract(root: Path, field: str = "size", op: str = "le", value: str = "10") -> Path:
    """thing/v1.py with one rule ``field op value``."""
    path = root / "thing" / "v1.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    body = PYTHON_CONTRACT.replace("{field}", field).replace("{op}", op).replace("{value}", value)
    path.write_text(textwrap.dedent(body))
    return path


def json_contract(root: Path, rule: dict[str, Any], schema: dict[str, Any] | None = None) -> Path:
    """thing/v1.json with one rule."""
    body = document("thing", 1, schema or object_schema(PROPERTIES), rules=[{"name": "small", **rule}])
    return write_json_contract(root, body)


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("weight", '"abc"', 'rule small: "abc" is string, but weight is number'),
        ("size", '"10"', 'rule small: "10" is string, but size is integer'),
        ("weight", "True", "rule small: true is boolean, but weight is number"),
        ("id", "10", "rule small: 10 is integer, but id is string"),
    ],
)
def test_a_constant_of_the_wrong_json_type_is_refused(
    tmp_path: Path, field: str, value: str, problem: str
) -> None:
    """``weight <= "abc"``, a string for an integer, a boolean for a number: refused, naming the rule."""
    path = python_contract(tmp_path, field=field, value=value)
    assert refusal(tmp_path).startswith(f"{path}: thing@1: {problem}")
    (path.parent / "v1.py").unlink()
    constant = json.loads(value.replace("True", "true"))
    path = json_contract(tmp_path, {"field": field, "op": "le", "value": constant, "message": "."})
    assert refusal(tmp_path).startswith(f"{path}: thing@1: {problem}")


def test_comparing_fields_of_different_types_or_ordering_booleans_is_refused(tmp_path: Path) -> None:
    """``weight >= id`` compares a number with a string; ``fragile > false`` has no order: both refused."""
    path = json_contract(tmp_path, {"field": "weight", "op": "ge", "other_field": "id", "message": "."})
    assert "rule small compares weight (number) with id (string)" in refusal(tmp_path)
    json_contract(tmp_path, {"field": "fragile", "op": "gt", "value": False, "message": "."})
    assert refusal(tmp_path).startswith(
        f"{path}: thing@1: rule small: fragile is boolean, which has no order"
    )


def test_an_unknown_operator_names_the_file_and_the_rule(tmp_path: Path) -> None:
    """``op="lte"`` is one line naming the file and the rule and listing the operators, in both formats."""
    path = python_contract(tmp_path, op="lte")
    assert refusal(tmp_path) == (
        f'{path}: rule small: op: "lte" is not an operator; use one of lt, le, gt, ge, eq, ne, in, not_in'
    )
    path.unlink()
    path = json_contract(tmp_path, {"field": "size", "op": "lte", "value": 10, "message": "."})
    assert refusal(tmp_path) == (
        f'{path}: not a JSON Schema contract: rule small (rules[0]): op: "lte" is not an operator; use one '
        "of lt, le, gt, ge, eq, ne, in, not_in"
    )


@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        (object_schema(PROPERTIES, ["id", "colour"]), "the object schema at the root requires 'colour'"),
        (
            object_schema(
                {**PROPERTIES, "box": object_schema({"w": {"type": "number"}}, ["w", "h"])}, ["id"]
            ),
            "the object schema at /properties/box requires 'h'",
        ),
        (
            object_schema({**PROPERTIES, "d": {"type": "string", "format": "colour"}}, ["id"]),
            "format 'colour' is not one the validator knows",
        ),
    ],
)
def test_a_schema_no_event_could_pass_names_the_file_and_the_place(
    tmp_path: Path, schema: dict[str, Any], problem: str
) -> None:
    """A closed object requiring a property it does not define (at any depth) is refused with the fix."""
    path = json_contract(tmp_path, {"field": "size", "op": "le", "value": 10, "message": "."}, schema)
    message = refusal(tmp_path)
    assert message.startswith(f"{path}: thing@1: ")
    assert problem in message


def test_a_version_defined_twice_names_both_files(tmp_path: Path) -> None:
    """v1.py and v1.json both declaring thing@1 is refused, naming the two files."""
    python_contract(tmp_path)
    json_contract(tmp_path, {"field": "size", "op": "le", "value": 10, "message": "."})
    assert refusal(tmp_path).startswith("thing@1 is defined twice, in thing/v1.json and in thing/v1.py")
