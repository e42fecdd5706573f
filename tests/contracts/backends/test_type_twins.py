"""Every type docs/contracts.md lists, in both backends: a Pydantic model and its twin decide alike.

order@1 (test_order_twins.py) covers decimals, instants, a Literal, a list of models and nullable fields;
this contract adds the rest: lengths with a pattern, integer and number bounds, booleans, an Enum class, an
optional date, a nullable nested model, a list of strings and a dict.
"""

import json
from datetime import date
from enum import Enum
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pydantic import Field

from contract_support import object_schema
from sigma_aetl.contracts import ContractModel, jsonschema_contract, pydantic_contract
from sigma_aetl.contracts.evolution.compatibility import Mode, check
from sigma_aetl.contracts.evolution.diff import diff_definitions
from sigma_aetl.core.contract import Contract
from sigma_aetl.core.decision import Decision
from sigma_aetl.core.validator import validate
from strategies import dumps, json_values


class Colour(str, Enum):  # noqa: UP042 — the (str, Enum) form contract authors write most
    """An Enum class of strings."""

    RED = "red"
    BLUE = "blue"


class Box(ContractModel):
    """A nested model."""

    width: float = Field(gt=0)


class Zoo(ContractModel):
    """One field of each type."""

    name: str = Field(min_length=2, max_length=5, pattern="^[a-z]+$")
    count: int = Field(ge=0, le=10)
    ratio: float = Field(gt=0, lt=1)
    flag: bool
    colour: Colour
    day: date | None = None
    box: Box | None = None
    tags: list[str] = Field(default_factory=list, max_length=2)
    scores: dict[str, int] = Field(default_factory=dict)


ZOO_SCHEMA: dict[str, Any] = {
    **object_schema(
        {
            "name": {"type": "string", "minLength": 2, "maxLength": 5, "pattern": "^[a-z]+$"},
            "count": {"type": "integer", "minimum": 0, "maximum": 10},
            "ratio": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
            "flag": {"type": "boolean"},
            "colour": {"$ref": "#/$defs/Colour"},
            "day": {"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}], "default": None},
            "box": {"anyOf": [{"$ref": "#/$defs/Box"}, {"type": "null"}], "default": None},
            "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
            "scores": {"type": "object", "additionalProperties": {"type": "integer"}},
        },
        ["name", "count", "ratio", "flag", "colour"],
    ),
    "description": "One field of each type.",
    "$defs": {
        "Box": {
            **object_schema({"width": {"type": "number", "exclusiveMinimum": 0}}),
            "description": "A nested model.",
        },
        "Colour": {"type": "string", "enum": ["red", "blue"], "description": "An Enum class of strings."},
    },
}
GOOD: dict[str, Any] = {"name": "abc", "count": 3, "ratio": 0.5, "flag": True, "colour": "red"}
EDGES: dict[str, list[Any]] = {
    "name": ["a", "abcdef", "ABC", "", "A", 5, None, "ab1"],
    "count": [-1, 11, 2.0, "3", True, None, 10**30],
    "ratio": [0, 1, 1.5, -0.5, "0.5", False, 0.999999],
    "flag": [1, 0, "true", None, "yes"],
    "colour": ["green", "RED", 1, None, ["red"]],
    "day": ["2025-02-29", "2024-02-29", "2025-01-01T00:00:00Z", 20250101, None],
    "box": [{"width": 0}, {"width": "1"}, {"width": 1, "depth": 2}, {}, "box", None, [], {"width": 2}],
    "tags": [["a", "b", "c"], [1], "a", None, [None, "x"], []],
    "scores": [{"a": 1.5}, {"a": "1"}, [], None, {"a": 1, "b": True}, {"": 0}],
}
CORPUS = [json.dumps({**GOOD, name: value}).encode() for name, values in EDGES.items() for value in values]


@pytest.fixture(scope="module")
def pair() -> tuple[Contract, Contract]:
    """The zoo contract in each backend."""
    return (
        pydantic_contract(name="zoo", version=1, model=Zoo),
        jsonschema_contract(name="zoo", version=1, schema=ZOO_SCHEMA, description="One field of each type."),
    )


def summary(decision: Decision) -> dict[str, Any]:
    """Status, causes, paths, constraints and explanations, in order."""
    errors = [(e.path, e.root_cause, e.constraint, e.explanation) for e in decision.errors]
    return {
        "status": decision.status,
        "root_cause": decision.root_cause,
        "data": decision.data,
        "errors": errors,
    }


def test_the_twin_states_the_same_contract(pair: tuple[Contract, Contract]) -> None:
    """The hand-written schema is the model's: only the backend differs, and they are compatible."""
    first, second = pair
    changes = diff_definitions(first.definition(), second.definition())
    assert [change.describe() for change in changes] == ["changed  backend: pydantic → jsonschema"]
    assert check(first.definition(), second.definition(), Mode.FULL).compatible


@pytest.mark.parametrize("raw", CORPUS, ids=range(len(CORPUS)))
def test_each_type_decides_alike(pair: tuple[Contract, Contract], raw: bytes) -> None:
    """Each edge value of each type gets the same decision, word for word, from both backends."""
    first, second = pair
    assert summary(validate(first, raw)) == summary(validate(second, raw)), raw


def test_the_corpus_passes_and_fails(pair: tuple[Contract, Contract]) -> None:
    """The corpus holds accepted events and each schema cause."""
    causes = {validate(pair[0], raw).root_cause for raw in CORPUS}
    assert {None, "type_mismatch", "constraint_violation", "unexpected_field"} <= causes


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(EDGES)), json_values, st.sampled_from(sorted(EDGES)), json_values)
def test_generated_values_decide_alike(
    pair: tuple[Contract, Contract], first_field: str, first: Any, second_field: str, second: Any
) -> None:
    """Any JSON value in any two fields gets the same decision from both backends.

    An empty key inside a value is left out: jsonschema-rs drops it from an error's path (``scores``
    where Pydantic says ``scores.``), a difference in the library, not in the decision."""
    assume(not _empty_key(first) and not _empty_key(second))
    raw = dumps({**GOOD, first_field: first, second_field: second})
    assert summary(validate(pair[0], raw)) == summary(validate(pair[1], raw)), raw


def _empty_key(value: Any) -> bool:
    if isinstance(value, dict):
        return "" in value or any(_empty_key(item) for item in value.values())
    return isinstance(value, list) and any(_empty_key(item) for item in value)


def test_an_enum_class_and_a_date_read_alike() -> None:
    """The two explanations that used to differ: an Enum's options and an optional date's format."""
    contract = pydantic_contract(name="zoo", version=1, model=Zoo)
    raw = json.dumps({**GOOD, "colour": "green", "day": "2025-02-29"}).encode()
    assert [e.explanation for e in validate(contract, raw).errors] == [
        'colour: expected one of "red", "blue", received "green" (a string).',
        'day: expected a string in date format, received "2025-02-29" (a string).',
    ]
