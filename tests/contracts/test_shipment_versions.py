"""shipment@1 and shipment@2 side by side: each event is judged by exactly the version it addresses."""

import json
from collections.abc import Callable
from typing import Any

from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core.envelope import Envelope
from sigma_aetl.core.records import AcceptedRecord, FailureRecord
from sigma_aetl.core.taxonomy import RootCause
from sigma_aetl.core.validator import validate
from sigma_aetl.ingest.pipeline import Pipeline

EnvelopeFactory = Callable[..., Envelope]
V1_EVENT = {"shipment_id": "S-1", "weight_kg": 12.5, "destination": "Cork", "priority": 1}
V2_EVENT = {"shipment_id": "S-1", "weight_kg": 12.5, "destination": "Cork", "service_level": "express"}


def raw(document: dict[str, Any], **changes: Any) -> bytes:
    """``document`` as JSON bytes, with ``changes`` applied (``...`` removes a field)."""
    merged = {**document, **changes}
    return json.dumps({k: v for k, v in merged.items() if v is not ...}).encode()


def causes(registry: Registry, ref: str, payload: bytes) -> list[tuple[str, RootCause]]:
    """(path, root cause) of each error ``ref`` finds in ``payload``."""
    return [(e.path, e.root_cause) for e in validate(registry.require(ref), payload).errors]


def test_each_version_accepts_its_own_shape_only(registry: Registry) -> None:
    """A v1 event passes v1 and fails v2; a v2 event passes v2 and fails v1 — nothing is validated twice."""
    assert causes(registry, "shipment@1", raw(V1_EVENT)) == []
    assert causes(registry, "shipment@2", raw(V2_EVENT)) == []
    assert causes(registry, "shipment@2", raw(V1_EVENT)) == [
        ("service_level", RootCause.MISSING_FIELD),
        ("priority", RootCause.UNEXPECTED_FIELD),
    ]
    assert causes(registry, "shipment@1", raw(V2_EVENT)) == [
        ("priority", RootCause.MISSING_FIELD),
        ("service_level", RootCause.UNEXPECTED_FIELD),
    ]


def test_v2_compatible_changes(registry: Registry) -> None:
    """v2 takes an optional reference (1-64 characters) and shipments up to 1500 kg; v1 takes neither."""
    assert causes(registry, "shipment@2", raw(V2_EVENT, reference="PO-77")) == []
    assert causes(registry, "shipment@2", raw(V2_EVENT, reference="")) == [
        ("reference", RootCause.CONSTRAINT_VIOLATION)
    ]
    assert causes(registry, "shipment@2", raw(V2_EVENT, weight_kg=1200)) == []
    assert causes(registry, "shipment@2", raw(V2_EVENT, weight_kg=1501)) == [
        ("weight_kg", RootCause.BUSINESS_RULE_VIOLATION)
    ]
    assert causes(registry, "shipment@1", raw(V1_EVENT, weight_kg=1200)) == [
        ("weight_kg", RootCause.BUSINESS_RULE_VIOLATION)
    ]


def test_v2_is_as_strict_as_v1(registry: Registry) -> None:
    """v2 refuses a service level outside its enumeration, a non-string one, and integral floats as ids."""
    assert causes(registry, "shipment@2", raw(V2_EVENT, service_level="fast")) == [
        ("service_level", RootCause.CONSTRAINT_VIOLATION)
    ]
    assert causes(registry, "shipment@2", raw(V2_EVENT, service_level=1)) == [
        ("service_level", RootCause.TYPE_MISMATCH)
    ]
    assert causes(registry, "shipment@2", raw(V2_EVENT, weight_kg="5", shipment_id=1.0)) == [
        ("shipment_id", RootCause.TYPE_MISMATCH),
        ("weight_kg", RootCause.TYPE_MISMATCH),
    ]


def test_the_pipeline_routes_each_event_to_its_version(
    pipeline: Pipeline, registry: Registry, make_envelope: EnvelopeFactory
) -> None:
    """Through the pipeline, records and failures name the version that judged them and its fingerprint."""
    v1, v2 = registry.require("shipment@1"), registry.require("shipment@2")
    outcomes = pipeline.process(
        [
            make_envelope(raw(V1_EVENT), version="1"),
            make_envelope(raw(V2_EVENT), version="2"),
            make_envelope(raw(V1_EVENT), version="2"),
            make_envelope(raw(V2_EVENT), version="1"),
        ]
    )
    assert [(o.status, o.contract_ref, o.duplicate) for o in outcomes] == [
        ("PASSED", "shipment@1", False),
        ("PASSED", "shipment@2", False),
        ("FAILED", "shipment@2", False),
        ("FAILED", "shipment@1", False),
    ]
    first, second = (pipeline.store.get_record(o.record_id or "") for o in outcomes[:2])
    assert isinstance(first, AcceptedRecord)
    assert isinstance(second, AcceptedRecord)
    assert (first.version, first.fingerprint) == (1, v1.fingerprint)
    assert (second.version, second.fingerprint) == (2, v2.fingerprint)
    assert first.record_id != second.record_id  # the same shipment_id under two versions: two records
    failures = [pipeline.store.get_failure(o.failure_id or "") for o in outcomes[2:]]
    assert [(f.version, f.fingerprint) for f in failures if isinstance(f, FailureRecord)] == [
        (2, v2.fingerprint),
        (1, v1.fingerprint),
    ]
