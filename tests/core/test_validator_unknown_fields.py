"""A contract's ``unknown_fields`` policy: ``forbid`` (the default) fails undeclared fields, ``ignore`` leaves
undeclared top-level fields out of the record and names them, identically on both backends."""

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contract_support import REPO_CONTRACTS, SHIPMENT_V1_SCHEMA, shipment_twin
from sigma_aetl.contracts.backends.json_schema import contract_from_document, jsonschema_contract
from sigma_aetl.contracts.loader import load_file
from sigma_aetl.core.contract import Contract
from sigma_aetl.core.decision import Decision
from sigma_aetl.core.validator import validate, validate_noting
from sigma_aetl.errors import ContractLoadError
from strategies import SHIPMENT_FIELDS, dumps, json_values, valid_shipments

COMPAT = REPO_CONTRACTS / "shipment_compat" / "v1.py"
SHIPMENT = REPO_CONTRACTS / "shipment" / "v1.py"


def compat() -> Contract:
    """The repository's shipment_compat@1 (Pydantic, ``unknown_fields="ignore"``)."""
    return load_file(COMPAT, REPO_CONTRACTS)


def compat_twin() -> Contract:
    """shipment_compat@1 in the JSON Schema backend."""
    pydantic = compat()
    return jsonschema_contract(
        name=pydantic.name,
        version=pydantic.version,
        schema=SHIPMENT_V1_SCHEMA,
        identity=pydantic.identity,
        rules=pydantic.rules,
        unknown_fields="ignore",
    )


def seed_payload(shipment: dict[str, Any]) -> dict[str, Any]:
    """What the seed workflow's Code node posts: the four fields, and a raw_payload holding them again."""
    fields = {name: shipment.get(name) for name in SHIPMENT_FIELDS}
    return {**fields, "raw_payload": dict(fields)}


def test_ignored_fields_are_left_out_of_the_record_and_named() -> None:
    """The seed's payload passes shipment_compat@1 with raw_payload out of the data and listed as ignored."""
    shipment = {"shipment_id": "S-1", "weight_kg": 2.5, "destination": "Cork", "priority": 1}
    decision, ignored = validate_noting(compat(), dumps(seed_payload(shipment)))
    assert decision.passed
    assert decision.data == dict(sorted(shipment.items()))
    assert ignored == ("raw_payload",)


def test_forbid_is_the_default_and_fails_the_same_payload() -> None:
    """shipment@1 (no policy stated) fails the seed's payload with unexpected_field, ignoring nothing."""
    shipment = load_file(SHIPMENT, REPO_CONTRACTS)
    payload = seed_payload({"shipment_id": "S-1", "weight_kg": 2, "destination": "Cork", "priority": 1})
    decision, ignored = validate_noting(shipment, dumps(payload))
    assert (shipment.unknown_fields, decision.root_cause, ignored) == ("forbid", "unexpected_field", ())


def test_only_top_level_fields_are_ignored() -> None:
    """An undeclared field inside a declared one is not the policy's: a nested object still fails."""
    twin = jsonschema_contract(
        name="box",
        version=1,
        schema={
            "type": "object",
            "additionalProperties": False,
            "properties": {"size": {"type": "object", "additionalProperties": False, "properties": {}}},
        },
        unknown_fields="ignore",
    )
    decision, ignored = validate_noting(twin, b'{"size": {"depth": 1}, "note": "x"}')
    assert decision.root_cause == "unexpected_field"
    assert [error.path for error in decision.errors] == ["size.depth"]
    assert ignored == ("note",)


def test_an_invalid_event_still_fails_with_its_own_causes() -> None:
    """Ignoring raw_payload hides no other error: a bad weight fails, and the answer still names it."""
    payload = seed_payload({"shipment_id": "S-1", "weight_kg": -5, "destination": "Cork", "priority": "2"})
    decision, ignored = validate_noting(compat(), dumps(payload))
    assert {error.path: error.root_cause for error in decision.errors} == {
        "weight_kg": "constraint_violation",
        "priority": "type_mismatch",
    }
    assert ignored == ("raw_payload",)


def test_the_policy_is_in_the_fingerprint_only_when_not_the_default() -> None:
    """``forbid`` leaves the definition (and every released fingerprint) as it was; ``ignore`` changes it."""
    shipment = load_file(SHIPMENT, REPO_CONTRACTS)
    assert "unknown_fields" not in shipment.definition()
    twin = shipment_twin(shipment)
    ignoring = compat_twin()
    assert ignoring.definition()["unknown_fields"] == "ignore"
    assert {key: value for key, value in ignoring.definition().items() if key != "unknown_fields"} == {
        **twin.definition(),
        "name": "shipment_compat",
        "description": "",
    }
    assert (
        ignoring.fingerprint
        != jsonschema_contract(
            name="shipment_compat",
            version=1,
            schema=SHIPMENT_V1_SCHEMA,
            identity=twin.identity,
            rules=twin.rules,
        ).fingerprint
    )


def test_ignore_needs_a_closed_schema() -> None:
    """An open schema keeps unknown fields already; asking it to ignore them is a load error, not a no-op."""
    open_schema = {"type": "object", "additionalProperties": True}
    with pytest.raises(ContractLoadError, match="unknown_fields ignore needs a closed schema"):
        jsonschema_contract(name="open", version=1, schema=open_schema, unknown_fields="ignore")


def test_a_json_contract_file_states_the_policy() -> None:
    """``"unknown_fields": "ignore"`` in a v<N>.json document is read; any other word is a load error."""
    document = {"name": "s", "version": 1, "schema": SHIPMENT_V1_SCHEMA, "unknown_fields": "ignore"}
    assert contract_from_document(document).unknown_fields == "ignore"
    with pytest.raises(ContractLoadError, match="unknown_fields"):
        contract_from_document({**document, "unknown_fields": "drop"})


extras = st.dictionaries(st.text(max_size=8).filter(lambda key: key not in SHIPMENT_FIELDS), json_values)
shipment_like = st.one_of(
    valid_shipments,
    st.fixed_dictionaries(dict.fromkeys(SHIPMENT_FIELDS, json_values)),
    st.dictionaries(st.sampled_from(SHIPMENT_FIELDS), json_values),
)


@settings(max_examples=150, deadline=None)
@given(shipment=shipment_like, extra=extras)
def test_both_backends_ignore_alike(shipment: dict[str, Any], extra: dict[str, Any]) -> None:
    """The Pydantic contract and its JSON Schema twin give the same decision and ignore the same fields,
    and the decision is the one the declared fields alone get."""
    raw = dumps({**extra, **shipment})
    pydantic, twin = compat(), compat_twin()
    decision, ignored = validate_noting(pydantic, raw)
    twin_decision, twin_ignored = validate_noting(twin, raw)
    assert ignored == twin_ignored == tuple(sorted(extra))
    assert summary(decision) == summary(twin_decision)
    assert summary(validate(pydantic, json.dumps(shipment).encode())) == summary(decision)


def summary(decision: Decision) -> dict[str, Any]:
    """What two backends must agree on (their error type codes and messages are their own)."""
    errors = [
        (e.path, e.loc, e.root_cause, e.stage, e.constraint, e.rule, e.explanation) for e in decision.errors
    ]
    return {
        "status": decision.status,
        "root_cause": decision.root_cause,
        "data": decision.data,
        "errors": errors,
    }
