"""Failure classes: one signature per problem, computed from the failure record alone."""

from datetime import UTC, datetime

import orjson
import pytest

from sigma_aetl.core.classes import class_id_of, normalise_path, producers_of, signature_of
from sigma_aetl.core.contract import Contract
from sigma_aetl.core.envelope import Envelope
from sigma_aetl.core.records import FailureRecord, build_record
from sigma_aetl.core.taxonomy import RootCause
from sigma_aetl.core.validator import validate

NOW = datetime(2024, 5, 1, 12, tzinfo=UTC)


def failure(shipment: Contract, payload: dict[str, object]) -> FailureRecord:
    """The failure record of ``payload`` sent to shipment@1."""
    envelope = Envelope(raw=orjson.dumps(payload), contract="shipment", version="1", received_at=NOW)
    record = build_record(envelope, validate(shipment, envelope.raw), shipment)
    assert isinstance(record, FailureRecord)
    return record


@pytest.mark.parametrize(
    ("path", "normalised"),
    [
        ("items[3].sku", "items[*].sku"),
        ("a[0][12].b[7]", "a[*][*].b[*]"),
        ("weight_kg", "weight_kg"),
        ("", ""),
    ],
)
def test_array_indices_are_normalised(path: str, normalised: str) -> None:
    """Every array index in a field path becomes [*]; names are left alone."""
    assert normalise_path(path) == normalised


def test_values_do_not_change_the_class_but_error_types_do(shipment: Contract) -> None:
    """Two different bad weights are one class; a weight of the wrong type is another."""
    base = {"shipment_id": "S-1", "destination": "Dublin", "priority": 1}
    low = failure(shipment, {**base, "weight_kg": -5})
    lower = failure(shipment, {**base, "shipment_id": "S-2", "weight_kg": -7})
    text = failure(shipment, {**base, "weight_kg": "heavy"})
    assert low.failure_id != lower.failure_id
    assert class_id_of(low) == class_id_of(lower)
    assert class_id_of(low) != class_id_of(text)
    signature = signature_of(low)
    assert signature.contract_ref == "shipment@1"
    assert signature.root_cause == low.root_cause
    assert signature.fields == ("weight_kg",)


def test_the_class_id_is_stable_across_runs(shipment: Contract) -> None:
    """The id is a hash of the signature alone: it is written here once and must never change."""
    missing = failure(shipment, {"weight_kg": 1, "destination": "Dublin", "priority": 1})
    assert missing.root_cause is RootCause.MISSING_FIELD
    assert class_id_of(missing) == signature_of(missing).class_id
    assert signature_of(missing).errors == (("shipment_id", "missing"),)
    assert class_id_of(missing) == "cls_870c33e17577e9b205f3c9bb3f3d221c"
    assert class_id_of(missing) == class_id_of(
        failure(shipment, {"weight_kg": 2, "destination": "Oslo", "priority": 2})
    )


@pytest.mark.parametrize(
    ("source", "labels"),
    [
        ({"kind": "http", "client": "10.0.0.7:51234", "key_id": "key_a"}, ("key:key_a", "client:10.0.0.7")),
        ({"kind": "http", "client": "[::1]:8000"}, ("client:::1",)),
        ({"kind": "http", "client": None, "kafka": {"topic": "t", "partition": 0}}, ("topic:t",)),
        ({"kind": "kafka", "topic": "shipments", "partition": 1}, ("topic:shipments",)),
        ({"kind": "file", "path": "a.jsonl", "line": 3}, ("file:a.jsonl",)),
        ({"kind": "stdin", "line": 3}, ("stdin",)),
        ({}, ()),
    ],
)
def test_producer_labels(source: dict[str, object], labels: tuple[str, ...]) -> None:
    """Who sent an event: its key, its client host without the port, its topic, or its file."""
    assert producers_of(source) == labels
