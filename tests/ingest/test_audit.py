"""The audit: stored decisions judged again from their raw bytes, against the fingerprint each one names."""

import dataclasses
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sigma_aetl.contracts.loader import load_registry
from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core.envelope import Envelope
from sigma_aetl.core.jsonparse import Limits
from sigma_aetl.ingest.audit import AuditReport, AuditScope, audit
from sigma_aetl.ingest.audit_checks import Judge
from sigma_aetl.ingest.pipeline import Pipeline
from sigma_aetl.stores.base import FailureQuery, RecordQuery
from sigma_aetl.stores.sqlite.store import SqliteStore
from sigma_aetl.testing import EXTRA_FIELD, HEAVY_SHIPMENT, INVALID_SHIPMENT, INVALID_UTF8, VALID_SHIPMENT
from strategies import dumps, json_ish_text, json_objects, valid_shipments

CONTRACTS = Path(__file__).parents[2] / "contracts"
EnvelopeFactory = Callable[..., Envelope]
REQUEST_LIMIT = 100
FIXED = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
NESTED = b'{"shipment_id": "N", "weight_kg": 1, "destination": "X", "priority": 1, "x": [[1]]}'


@pytest.fixture
def filled(pipeline: Pipeline, make_envelope: EnvelopeFactory) -> SqliteStore:
    """A store holding every kind of decision the pipeline makes: accepted, failed at each stage, never
    routed, an identity conflict, a reused idempotency key, and bodies kept only in part."""
    pipeline.process(
        [
            make_envelope(VALID_SHIPMENT),
            make_envelope(INVALID_SHIPMENT),
            make_envelope(HEAVY_SHIPMENT),
            make_envelope(b"{"),
            make_envelope(INVALID_UTF8),
            make_envelope(EXTRA_FIELD),
            make_envelope(NESTED),
            make_envelope(VALID_SHIPMENT, "ghost"),
            make_envelope(VALID_SHIPMENT, "shipment", "9"),
            make_envelope(VALID_SHIPMENT, None, None),
        ]
    )
    pipeline.process([make_envelope(VALID_SHIPMENT.replace(b"15.2", b"16.2"))])  # identity conflict
    pipeline.process([make_envelope(INVALID_SHIPMENT, idempotency_key="K1")])
    pipeline.process([make_envelope(HEAVY_SHIPMENT, idempotency_key="K1")])  # the key reused
    pipeline.process_oversized(make_envelope(b'{"shipment_id": "S'), 5000, REQUEST_LIMIT)
    pipeline.process_oversized(make_envelope(b'{"shipment_id": "T'), None, REQUEST_LIMIT)
    assert isinstance(pipeline.store, SqliteStore)
    return pipeline.store


def edited_contracts(tmp_path: Path) -> Registry:
    """The repository's contracts copied to ``tmp_path``, shipment@1 edited (priority up to 4), loaded."""
    copy = shutil.copytree(CONTRACTS, tmp_path / "contracts")
    v1 = copy / "shipment" / "v1.py"
    v1.write_text(v1.read_text().replace("ge=1, le=3", "ge=1, le=4"))
    return load_registry(copy)


def run(store: SqliteStore, registry: Registry, limits: Limits = Limits(), **scope: object) -> AuditReport:
    """Audit ``store`` against ``registry`` with ``limits``, three stored events at a time."""
    judge = Judge(registry, store, limits, REQUEST_LIMIT)
    return audit(store, judge, AuditScope.model_validate(scope), batch_size=3)


def test_every_kind_of_decision_is_reproduced(filled: SqliteStore, registry: Registry) -> None:
    """Judged again with the registry and limits that made them, all stored decisions are identical."""
    report = run(filled, registry)
    assert report.findings == []
    assert (report.checked, report.records, report.failures, report.truncated) == (15, 1, 14, 2)
    assert report.identical == report.checked
    assert report.reproducible


def test_progress_is_told_every_event(filled: SqliteStore, registry: Registry) -> None:
    """The progress callback is told, batch by batch, of every stored event checked."""
    told: list[int] = []
    report = audit(filled, Judge(registry, filled, Limits(), REQUEST_LIMIT), AuditScope(), told.append)
    assert sum(told) == report.checked


def test_an_edited_version_is_an_unknown_fingerprint(
    filled: SqliteStore, registry: Registry, tmp_path: Path
) -> None:
    """Decisions of a version whose definition changed are reported as unknown fingerprints, not re-made."""
    edited = edited_contracts(tmp_path)
    report = run(filled, edited)
    now = edited.require("shipment@1").fingerprint
    assert report.drifted == 0
    assert report.unknown_fingerprint == len(report.findings) == 12  # all but the three never routed
    assert all(f"shipment@1 is now {now}" in finding.differs[0] for finding in report.findings)
    assert not report.reproducible


def test_a_removed_version_is_an_unknown_fingerprint(filled: SqliteStore, registry: Registry) -> None:
    """Decisions of a version no longer registered are unknown fingerprints: the version is not guessed."""
    others = [contract for contract in registry.all() if contract.ref != "shipment@1"]
    report = run(filled, Registry(others), contract="shipment", version=1)
    assert report.unknown_fingerprint == report.checked == 12
    assert "the version is not registered" in report.findings[0].differs[0]


def test_a_stricter_depth_limit_drifts_the_deep_events(filled: SqliteStore, registry: Registry) -> None:
    """With a smaller nesting limit, the one nested event that failed for other reasons fails differently."""
    report = run(filled, registry, Limits(max_depth=2))
    (finding,) = report.findings
    assert finding.verdict == "drifted"
    assert "root_cause: stored unexpected_field, now nesting_too_deep" in finding.differs


def test_a_smaller_event_limit_drifts_an_accepted_record(filled: SqliteStore, registry: Registry) -> None:
    """An accepted record over a new, smaller event limit is reported: stored PASSED, now FAILED."""
    report = run(filled, registry, Limits(max_bytes=90), contract="shipment", version=1)
    record = next(finding for finding in report.findings if finding.kind == "record")
    assert record.differs == [
        "decision: stored PASSED, now FAILED (payload_too_large: payload_too_large at (payload))"
    ]


def test_a_truncated_body_is_judged_by_the_request_limit(filled: SqliteStore, registry: Registry) -> None:
    """A body kept only in part drifts when the request limit it was judged by changes."""
    judge = Judge(registry, filled, Limits(), REQUEST_LIMIT * 2)
    report = audit(filled, judge, AuditScope())
    assert report.drifted == 2
    assert all(finding.differs[0].startswith("error at (payload): stored ") for finding in report.findings)
    assert "the limit is 200 bytes" in report.findings[0].differs[0]


def test_a_tampered_record_drifts(filled: SqliteStore, registry: Registry) -> None:
    """A stored record whose data no longer matches its raw bytes is reported with what differs."""
    record = filled.query_records(RecordQuery(limit=1)).items[0]
    tampered = dataclasses.replace(record, record_id="rec_other", data={**record.data, "priority": 3})
    filled.write([tampered], [])
    report = run(filled, registry)
    (finding,) = report.findings
    assert finding.id == "rec_other"
    assert finding.differs == [
        "data: differs at priority",
        f"record_id: stored rec_other, now {record.record_id}",
    ]


def test_a_conflict_whose_record_is_gone_drifts(
    pipeline: Pipeline, make_envelope: EnvelopeFactory, registry: Registry
) -> None:
    """An identity conflict naming a record the store does not hold is reported, never assumed."""
    pipeline.process([make_envelope(VALID_SHIPMENT)])
    pipeline.process([make_envelope(VALID_SHIPMENT.replace(b"15.2", b"16.2"))])
    store = pipeline.store
    assert isinstance(store, SqliteStore)
    (conflict,) = store.query_failures(FailureQuery()).items
    other = SqliteStore(store.path.with_name("other.db"), writer="inline")
    try:
        other.write([], [conflict])
        report = run(other, registry)
    finally:
        other.close()
    (finding,) = report.findings
    assert finding.differs == [f"conflicts_with: the record {conflict.conflicts_with} it names is not stored"]


def test_an_unrouted_failure_that_now_routes_drifts(
    pipeline: Pipeline, make_envelope: EnvelopeFactory, registry: Registry
) -> None:
    """A failure stored as unknown_version is reported once that version is registered."""
    store = pipeline.store
    assert isinstance(store, SqliteStore)
    only_v1 = Registry([contract for contract in registry.all() if contract.ref != "shipment@2"])
    Pipeline(only_v1, store).process([make_envelope(INVALID_SHIPMENT, "shipment", "2")])
    report = run(store, registry)
    (finding,) = report.findings
    assert finding.differs == ["routing: stored unknown_version, now routed to shipment@2"]


def test_the_scope_selects(filled: SqliteStore, registry: Registry) -> None:
    """A contract scope leaves out the failures no contract judged, and the other contracts' decisions."""
    report = run(filled, registry, contract="shipment")
    assert (report.checked, report.records) == (12, 1)
    assert run(filled, registry, contract="order").checked == 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    raws=st.lists(
        st.one_of(
            st.binary(max_size=40),
            json_ish_text.map(lambda text: text.encode("utf-8", "surrogatepass")),
            json_objects.map(dumps),
            valid_shipments.map(dumps),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_any_stored_bytes_are_reproduced(
    registry: Registry, tmp_path_factory: pytest.TempPathFactory, raws: list[bytes]
) -> None:
    """Whatever bytes were stored, valid or not, the audit judges them again to the same decisions."""
    store = SqliteStore(tmp_path_factory.mktemp("audit") / "s.db", writer="inline")
    try:
        pipeline = Pipeline(registry, store)
        for raw in raws:
            pipeline.process([Envelope(raw, "shipment", "1", FIXED, {"kind": "test"})])
        report = run(store, registry)
    finally:
        store.close()
    assert report.findings == []
    assert report.checked == report.identical > 0


def test_an_unrouted_failure_stays_identical_when_other_contracts_are_added(
    pipeline: Pipeline, make_envelope: EnvelopeFactory, registry: Registry
) -> None:
    """A failure for an unknown contract is still reproduced once more contracts are registered, though its
    message lists the contracts known when it was stored."""
    store = pipeline.store
    assert isinstance(store, SqliteStore)
    fewer = Registry([contract for contract in registry.all() if contract.name != "order"])
    Pipeline(fewer, store).process([make_envelope(VALID_SHIPMENT, "ghost", "1")])
    (stored,) = store.query_failures(FailureQuery()).items
    assert "order" not in stored.errors[0].message
    report = run(store, registry)
    assert (report.checked, report.identical) == (1, 1)
