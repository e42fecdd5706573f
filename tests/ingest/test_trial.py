"""The dry run behind ``contracts try``: stored payloads validated again, counted, nothing written."""

from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core.records import RawPayload, StoredPayload
from sigma_aetl.ingest.trial import trial
from sigma_aetl.testing import HEAVY_SHIPMENT, INVALID_SHIPMENT, TRUNCATED, VALID_SHIPMENT

V2_VALID = b'{"shipment_id": "S", "weight_kg": 3, "destination": "Cork", "service_level": "economy"}'


def stored(kind: str, ident: str, raw: bytes, *, truncated: bool = False) -> StoredPayload:
    """A stored payload of ``kind`` (record or failure)."""
    return StoredPayload(kind, ident, RawPayload.of(raw, truncated=truncated))  # type: ignore[arg-type]


def test_counts_by_outcome_root_cause_and_field(registry: Registry) -> None:
    """Each stored event is decided against the candidate and counted by origin, primary cause and field."""
    batches = [
        [stored("record", "rec_a", VALID_SHIPMENT), stored("record", "rec_b", V2_VALID)],
        [stored("failure", "fail_a", INVALID_SHIPMENT), stored("failure", "fail_b", HEAVY_SHIPMENT)],
        [stored("failure", "fail_c", TRUNCATED + b" ...", truncated=True)],
    ]
    candidate = registry.require("shipment@2")
    report = trial(candidate, "shipment@1", batches)
    assert (report.candidate, report.candidate_fingerprint, report.against) == (
        "shipment@2",
        candidate.fingerprint,
        "shipment@1",
    )
    assert (report.payloads, report.would_pass, report.would_fail, report.skipped_truncated) == (5, 1, 3, 1)
    assert report.by_origin["accepted"].model_dump() == {"total": 2, "would_pass": 1, "would_fail": 1}
    assert report.by_origin["failed"].model_dump() == {"total": 2, "would_pass": 0, "would_fail": 2}
    assert report.by_root_cause == {"missing_field": 3}
    assert report.by_field == {
        "priority": {"unexpected_field": 2},
        "service_level": {"missing_field": 3},
        "shipment_id": {"constraint_violation": 1},
        "weight_kg": {"constraint_violation": 1},
    }
    assert report.samples == {"missing_field": ["rec_a", "fail_a", "fail_b"]}


def test_a_compatible_candidate_passes_everything(registry: Registry) -> None:
    """Replaying accepted shipment@1 events against shipment@1 itself passes them all."""
    batches = [[stored("record", f"rec_{n}", VALID_SHIPMENT) for n in range(4)]]
    report = trial(registry.require("shipment@1"), "shipment@1", batches)
    assert (report.would_pass, report.would_fail, report.by_root_cause, report.by_field) == (4, 0, {}, {})


def test_no_stored_events_is_an_empty_report(registry: Registry) -> None:
    """With nothing stored the report counts zeros."""
    report = trial(registry.require("shipment@2"), "shipment@1", [])
    assert (report.payloads, report.would_pass, report.would_fail) == (0, 0, 0)
    assert report.by_origin["accepted"].total == report.by_origin["failed"].total == 0
