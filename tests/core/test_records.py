"""Stored records: raw bytes kept exactly, accepted and failure records built from a decision."""

import base64
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from sigma_aetl.core import serial
from sigma_aetl.core.canonical import canonical_bytes, sha256_hex
from sigma_aetl.core.contract import Contract
from sigma_aetl.core.envelope import Envelope
from sigma_aetl.core.ids import failure_id, record_id
from sigma_aetl.core.records import AcceptedRecord, FailureRecord, RawPayload, build_record, conflict_record
from sigma_aetl.core.taxonomy import RootCause, Stage
from sigma_aetl.core.validator import validate
from sigma_aetl.testing import INVALID_SHIPMENT, INVALID_UTF8, VALID_SHIPMENT

NOW = datetime(2024, 5, 1, 12, tzinfo=UTC)


def envelope(raw: bytes, **fields: object) -> Envelope:
    """An envelope for shipment@1 received at a fixed instant."""
    values: dict[str, object] = {"contract": "shipment", "version": "1", "received_at": NOW, **fields}
    return Envelope(raw=raw, **values)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(raw=st.one_of(st.binary(max_size=200), st.text(max_size=100).map(str.encode)))
def test_raw_payload_round_trips_any_bytes(raw: bytes) -> None:
    """Any bytes come back exactly, directly and through the record's JSON form."""
    payload = RawPayload.of(raw)
    assert payload.to_bytes() == raw
    assert serial.loads(RawPayload, serial.dumps(payload)).to_bytes() == raw
    assert payload.size == len(raw)
    assert payload.sha256 == sha256_hex(raw)
    assert payload.truncated is False


@settings(max_examples=200, deadline=None)
@given(raw=st.binary(max_size=100))
def test_raw_payload_uses_base64_only_when_not_utf8(raw: bytes) -> None:
    """Valid UTF-8 is kept as text; anything else is base64 of the same bytes."""
    payload = RawPayload.of(raw)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        assert payload.encoding == "base64"
        assert payload.text == base64.b64encode(raw).decode("ascii")
    else:
        assert payload.encoding == "utf-8"
        assert payload.text == text


def test_raw_payload_of_invalid_utf8_is_base64() -> None:
    """The invalid-UTF-8 acceptance payload is stored as base64 and restored byte for byte."""
    payload = RawPayload.of(INVALID_UTF8)
    assert payload.encoding == "base64"
    assert payload.to_bytes() == INVALID_UTF8


def test_raw_payload_records_a_truncated_prefix() -> None:
    """A kept prefix says it is truncated and carries the full size."""
    payload = RawPayload.of(b"abc", size=10_000, truncated=True)
    assert (payload.size, payload.truncated, payload.to_bytes()) == (10_000, True, b"abc")
    assert payload.sha256 == sha256_hex(b"abc")


def test_accepted_record_is_built_from_a_passed_decision(shipment: Contract) -> None:
    """A passed event becomes an accepted record keyed by contract, version and identity."""
    source = {"kind": "http", "request_id": "r-1"}
    decision = validate(shipment, VALID_SHIPMENT)
    record = build_record(envelope(VALID_SHIPMENT, source=source), decision, shipment)
    assert isinstance(record, AcceptedRecord)
    assert record.record_id == record_id("shipment", 1, ["SHIP-TRUE-003"])
    assert (record.contract, record.version, record.fingerprint) == ("shipment", 1, shipment.fingerprint)
    assert record.data == decision.data
    assert record.content_hash == sha256_hex(canonical_bytes(decision.data))
    assert record.raw.to_bytes() == VALID_SHIPMENT
    assert (record.received_at, record.source) == (NOW, source)


def test_record_id_ignores_non_identity_fields(shipment: Contract) -> None:
    """Two shipments with the same id but other content share a record id and differ in content hash."""
    other = VALID_SHIPMENT.replace(b"Dublin", b"Galway")
    one = build_record(envelope(VALID_SHIPMENT), validate(shipment, VALID_SHIPMENT), shipment)
    two = build_record(envelope(other), validate(shipment, other), shipment)
    assert isinstance(one, AcceptedRecord)
    assert isinstance(two, AcceptedRecord)
    assert one.record_id == two.record_id
    assert one.content_hash != two.content_hash


def test_failure_record_is_built_from_a_failed_decision(shipment: Contract) -> None:
    """A failed event becomes a failure record with every error, its cause, contract and raw bytes."""
    decision = validate(shipment, INVALID_SHIPMENT)
    record = build_record(envelope(INVALID_SHIPMENT), decision, shipment)
    assert isinstance(record, FailureRecord)
    assert record.failure_id == failure_id("shipment", "1", ("raw", sha256_hex(INVALID_SHIPMENT)))
    assert record.contract_ref == "shipment@1"
    assert (record.contract, record.version, record.fingerprint) == ("shipment", 1, shipment.fingerprint)
    assert (record.root_cause, record.stage) == (RootCause.MISSING_FIELD, Stage.SCHEMA)
    assert record.errors == decision.errors
    assert record.fields == ["priority", "shipment_id", "weight_kg"]
    assert record.conflicts_with is None
    assert record.raw.to_bytes() == INVALID_SHIPMENT


def test_failure_record_round_trips_through_json(shipment: Contract) -> None:
    """A failure record survives its JSON form unchanged (what the stores keep)."""
    record = build_record(envelope(INVALID_UTF8), validate(shipment, INVALID_UTF8), shipment)
    assert serial.loads(FailureRecord, serial.dumps(record)) == record


def test_conflict_record_points_at_the_stored_record(shipment: Contract) -> None:
    """An identity conflict names the identity, keeps the new bytes and points at the stored record."""
    other = VALID_SHIPMENT.replace(b"Dublin", b"Galway")
    arrival = envelope(other, idempotency_key="k-9")
    record = build_record(arrival, validate(shipment, other), shipment)
    assert isinstance(record, AcceptedRecord)
    conflict = conflict_record(arrival, record, shipment.identity)
    assert conflict.root_cause is RootCause.IDENTITY_CONFLICT
    assert conflict.stage is Stage.IDENTITY
    assert conflict.conflicts_with == record.record_id
    assert conflict.failure_id == failure_id("shipment", "1", ("key", "k-9"))
    assert conflict.raw.to_bytes() == other
    (error,) = conflict.errors
    assert (error.path, error.loc, error.type) == ("shipment_id", ("shipment_id",), "identity_conflict")
    assert "shipment_id='SHIP-TRUE-003'" in error.message
    assert record.record_id in error.message
