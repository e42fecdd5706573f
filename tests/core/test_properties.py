"""Invariants of the pure core, checked with Hypothesis: never raising, determinism, no mutation."""

import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sigma_aetl.contracts.loader import load_registry
from sigma_aetl.core import serial
from sigma_aetl.core.canonical import canonical, canonical_bytes
from sigma_aetl.core.contract import Contract
from sigma_aetl.core.decision import Decision
from sigma_aetl.core.jsonparse import Limits, Parsed, parse
from sigma_aetl.core.taxonomy import PRECEDENCE, STAGE_OF, RootCause
from sigma_aetl.core.validator import validate
from strategies import (
    broken_shipments,
    dumps,
    json_ish_text,
    json_objects,
    json_values,
    reordered,
    serialised,
    valid_shipments,
)

# A second, separately loaded copy of the contracts: a new module, new model classes, same meaning.
OTHER_SHIPMENT = load_registry(Path(__file__).parents[2] / "contracts").get("shipment", 1)
SMALL = Limits(max_bytes=2_000, max_depth=8)

many = settings(max_examples=300, deadline=None)
some = settings(max_examples=150, deadline=None)


def assert_well_formed(decision: Decision) -> None:
    """A decision is either PASSED with data and no errors, or FAILED with errors and a consistent cause."""
    if decision.passed:
        assert decision.data is not None
        assert decision.errors == ()
        assert decision.root_cause is None
        return
    assert decision.data is None
    assert decision.errors
    assert decision.root_cause is not None
    assert decision.root_cause == min((error.root_cause for error in decision.errors), key=PRECEDENCE.index)
    assert decision.stage == STAGE_OF[decision.root_cause]


def same_types(left: Any, right: Any) -> bool:
    """Equal values of exactly the same Python types, all the way down (``1 == 1.0`` is not enough)."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(same_types(left[k], right[k]) for k in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(map(same_types, left, right))
    return bool(left == right)


@many
@given(raw=st.binary(max_size=300))
def test_validate_never_raises_on_any_bytes(shipment: Contract, raw: bytes) -> None:
    """Any bytes at all give a well-formed decision, never an exception."""
    assert_well_formed(validate(shipment, raw))


@many
@given(text=json_ish_text)
def test_validate_never_raises_on_json_ish_text(shipment: Contract, text: str) -> None:
    """Nearly-JSON text (lone surrogates and byte order marks included) gives a decision, never a raise."""
    assert_well_formed(validate(shipment, text.encode("utf-8", "surrogatepass")))


@many
@given(value=json_values, ascii_only=st.booleans())
def test_validate_never_raises_on_json_values(shipment: Contract, value: Any, ascii_only: bool) -> None:
    """Any JSON value, serialised, gives a decision; only an object can pass."""
    decision = validate(shipment, dumps(value, ensure_ascii=ascii_only))
    assert_well_formed(decision)
    if not isinstance(value, dict):
        assert decision.root_cause is RootCause.NOT_AN_OBJECT


@many
@given(
    value=st.fixed_dictionaries(
        {}, optional=dict.fromkeys(["shipment_id", "weight_kg", "destination", "priority"], json_values)
    ),
    extra=json_objects,
)
def test_validate_never_raises_on_shipment_shaped_objects(
    shipment: Contract, value: dict[str, Any], extra: dict[str, Any]
) -> None:
    """Objects with the contract's field names but arbitrary values give a decision, never an exception."""
    assert_well_formed(validate(shipment, dumps({**extra, **value})))


@some
@given(value=json_values)
def test_validate_never_raises_under_tight_limits(shipment: Contract, value: Any) -> None:
    """Small size and depth limits turn into transport failures, never exceptions."""
    decision = validate(shipment, dumps(value), SMALL)
    assert_well_formed(decision)


@many
@given(raw=st.one_of(st.binary(max_size=200), st.builds(dumps, json_values), valid_shipments.map(dumps)))
def test_decision_is_deterministic_byte_for_byte(shipment: Contract, raw: bytes) -> None:
    """The same bytes give the identical serialised decision, again and with a separately loaded contract."""
    assert OTHER_SHIPMENT is not None
    first = serial.dumps(validate(shipment, raw))
    assert serial.dumps(validate(shipment, raw)) == first
    assert serial.dumps(validate(OTHER_SHIPMENT, raw)) == first


@many
@given(data=st.data(), value=valid_shipments)
def test_valid_shipments_pass_unchanged(
    shipment: Contract, data: st.DataObject, value: dict[str, Any]
) -> None:
    """A valid shipment passes with values and types exactly as sent (15.0 stays float), keys sorted."""
    raw = data.draw(serialised(value))
    decision = validate(shipment, raw)
    assert decision.status == "PASSED", decision.errors
    assert decision.data is not None
    assert same_types(decision.data, json.loads(raw))
    assert same_types(decision.data, value)
    assert list(decision.data) == sorted(decision.data)


@many
@given(case=broken_shipments())
def test_every_bad_field_is_reported(
    shipment: Contract, case: tuple[dict[str, Any], dict[str, RootCause]]
) -> None:
    """A shipment with wrong types, missing and unknown fields fails with the right error on each."""
    document, expected = case
    decision = validate(shipment, dumps(document))
    if not expected:
        assert decision.passed
        return
    assert decision.status == "FAILED"
    reported = {(error.path, error.root_cause) for error in decision.errors}
    for path, cause in expected.items():
        assert (path, cause) in reported
    assert decision.root_cause == min(expected.values(), key=PRECEDENCE.index)


@many
@given(data=st.data(), value=json_values)
def test_canonical_bytes_ignore_key_order(data: st.DataObject, value: Any) -> None:
    """Two orderings of the same keys give the same canonical bytes and the same canonical value."""
    other = data.draw(reordered(value))
    assert canonical_bytes(other) == canonical_bytes(value)
    assert same_types(canonical(other), canonical(value))


@many
@given(value=json_values)
def test_canonical_bytes_round_trip(value: Any) -> None:
    """Canonical bytes parse back to the same value, with the same types."""
    assert same_types(json.loads(canonical_bytes(value)), value)


@many
@given(value=json_values, ascii_only=st.booleans())
def test_parse_round_trips_json_values(value: Any, ascii_only: bool) -> None:
    """Any JSON document within the limits parses back to exactly its value and types."""
    result = parse(dumps(value, ensure_ascii=ascii_only), Limits())
    assert isinstance(result, Parsed), result
    assert same_types(result.value, value)
