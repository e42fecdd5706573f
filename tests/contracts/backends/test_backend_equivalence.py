"""shipment@1 in both backends: the Pydantic contract and its JSON Schema twin decide every event alike."""

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contract_support import shipment_twin
from sigma_aetl.contracts.evolution.compatibility import Mode, check
from sigma_aetl.contracts.evolution.diff import diff_definitions
from sigma_aetl.core.contract import Contract
from sigma_aetl.core.decision import Decision
from sigma_aetl.core.validator import validate
from sigma_aetl.testing import (
    EXTRA_FIELD,
    HEAVY_SHIPMENT,
    INVALID_SHIPMENT,
    INVALID_UTF8,
    STRING_PRIORITY,
    TRUNCATED,
    VALID_SHIPMENT,
)
from strategies import SHIPMENT_FIELDS, broken_shipments, dumps, json_objects, json_values, valid_shipments

BASE = '{"shipment_id": "S-1", "weight_kg": %s, "destination": "Cork", "priority": %s}'
EDGES = [
    *(BASE % ("5", p) for p in ("2.0", "2.5", "true", '"2"', "null", "0", "4", "-1", "10" + "0" * 30, "3.0")),
    *(BASE % (w, "1") for w in ("true", '"5"', "0", "-0.0", "1e-320", "1000", "1000.0000001", "1e300")),
    *(BASE % (w, "1") for w in ("1" + "0" * 40, "[]", "{}", "null", "0.0", "-5", "2E2", "5e-324")),
    '{"shipment_id": "", "weight_kg": 1, "destination": "", "priority": 1}',
    '{"shipment_id": " ", "weight_kg": 1, "destination": "\\u00e9", "priority": 3}',
    '{"shipment_id": 5, "weight_kg": 1, "destination": null, "priority": 1}',
    '{"shipment_id": "S", "weight_kg": 1, "destination": "C", "priority": 1, "a": 1, "b": {"c": []}}',
    '{"shipment_id": "S", "weight_kg": 1500, "destination": "C", "priority": 9, "z": null}',
    '{"shipment_id": "S", "weight_kg": 1500}',
    '{"x": 1}',
    "{}",
    "[]",
    '"shipment"',
    "null",
    "7",
    '{"shipment_id": "S", "shipment_id": "T"}',
    '{"weight_kg": NaN}',
    "\ufeff{}",
]
CORPUS = [
    VALID_SHIPMENT,
    INVALID_SHIPMENT,
    HEAVY_SHIPMENT,
    STRING_PRIORITY,
    EXTRA_FIELD,
    TRUNCATED,
    INVALID_UTF8,
    *(edge.encode() for edge in EDGES),
]


@pytest.fixture(scope="module")
def twin(shipment: Contract) -> Contract:
    """shipment@1 in the JSON Schema backend."""
    return shipment_twin(shipment)


def summary(decision: Decision) -> dict[str, Any]:
    """Everything two backends must agree on: status, causes, paths, constraints, explanations, data."""
    return {
        "status": decision.status,
        "root_cause": decision.root_cause,
        "stage": decision.stage,
        "data": decision.data,
        "errors": [
            (e.path, e.loc, e.root_cause, e.stage, e.constraint, e.rule, e.explanation)
            for e in decision.errors
        ],
    }


def assert_same_decision(pydantic: Contract, twin: Contract, raw: bytes) -> None:
    """Both backends decide ``raw`` identically (their error type codes and messages are their own)."""
    first, second = validate(pydantic, raw), validate(twin, raw)
    assert summary(first) == summary(second), raw
    assert {(e.path, e.root_cause) for e in first.errors} == {(e.path, e.root_cause) for e in second.errors}


def test_the_twin_is_a_different_backend_with_the_same_meaning(shipment: Contract, twin: Contract) -> None:
    """The twin is a JSON Schema contract; comparing it with shipment@1 finds only the backend changed."""
    assert (shipment.backend, twin.backend) == ("pydantic", "jsonschema")
    assert (twin.identity, twin.rules, twin.allow_extra) == (shipment.identity, shipment.rules, False)
    changes = diff_definitions(shipment.definition(), twin.definition())
    assert [change.describe() for change in changes] == ["changed  backend: pydantic → jsonschema"]
    assert check(shipment.definition(), twin.definition(), Mode.FULL).compatible


@pytest.mark.parametrize("raw", CORPUS, ids=range(len(CORPUS)))
def test_hand_written_corpus_decides_alike(shipment: Contract, twin: Contract, raw: bytes) -> None:
    """Each hand-written edge case (strict numbers, empty strings, unknown fields, bad JSON) decides alike."""
    assert_same_decision(shipment, twin, raw)


def test_the_corpus_covers_every_schema_cause(shipment: Contract) -> None:
    """The hand-written corpus is not vacuous: it passes and fails, for every cause the schema can find."""
    causes = {validate(shipment, raw).root_cause for raw in CORPUS}
    assert {None, "missing_field", "unexpected_field", "type_mismatch", "constraint_violation"} <= causes
    assert {"business_rule_violation", "malformed_json", "not_an_object", "invalid_encoding"} <= causes


shipments = st.one_of(
    valid_shipments,
    broken_shipments().map(lambda pair: pair[0]),
    json_objects,
    json_values,
    st.tuples(valid_shipments, st.sampled_from(SHIPMENT_FIELDS), json_values).map(
        lambda t: {**t[0], t[1]: t[2]}
    ),
)


@settings(max_examples=400, deadline=None)
@given(shipments)
def test_generated_events_decide_alike(shipment: Contract, twin: Contract, value: Any) -> None:
    """Generated valid, broken and arbitrary events get identical decisions from both backends."""
    assert_same_decision(shipment, twin, dumps(value))


@settings(max_examples=100, deadline=None)
@given(valid_shipments, st.sampled_from(SHIPMENT_FIELDS))
def test_integral_floats_are_not_integers_in_either_backend(
    shipment: Contract, twin: Contract, value: dict[str, Any], field: str
) -> None:
    """Writing an integer as 2.0 is a type mismatch for priority and fine for weight_kg, in both backends."""
    document = {**value, "priority": float(value["priority"])}
    raw = json.dumps(document).encode()
    assert_same_decision(shipment, twin, raw)
    assert [(e.path, e.root_cause) for e in validate(twin, raw).errors] == [("priority", "type_mismatch")]
