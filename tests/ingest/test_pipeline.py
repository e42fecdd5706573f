"""The pipeline over a real SQLite store: exactly-once records, first-class failures, identity conflicts."""

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core.canonical import sha256_hex
from sigma_aetl.core.envelope import Envelope, Truncation
from sigma_aetl.core.records import AcceptedRecord, FailureRecord
from sigma_aetl.core.taxonomy import RootCause, Stage
from sigma_aetl.ingest.pipeline import Pipeline
from sigma_aetl.stores.base import FailureQuery, StagedWrite, Store
from sigma_aetl.stores.sqlite.rows import Rows
from sigma_aetl.stores.sqlite.store import SqliteStore
from sigma_aetl.testing import EXTRA_FIELD, HEAVY_SHIPMENT, INVALID_SHIPMENT, INVALID_UTF8, VALID_SHIPMENT

EnvelopeFactory = Callable[..., Envelope]
GALWAY = VALID_SHIPMENT.replace(b"Dublin", b"Galway")  # same shipment_id, other content


def shipment(shipment_id: str, weight: float = 3.5) -> bytes:
    """A valid shipment with the given id and weight."""
    document = {"shipment_id": shipment_id, "weight_kg": weight, "destination": "Cork", "priority": 1}
    return json.dumps(document).encode()


def totals(store: Store) -> tuple[int, int]:
    """(accepted records, failure records) in the store."""
    stats = store.stats()
    return stats.accepted_total, stats.failures_total


def test_valid_event_is_stored_once(pipeline: Pipeline, make_envelope: EnvelopeFactory) -> None:
    """A valid event sent four times is stored as one record; the three resends are duplicates."""
    outcomes = [pipeline.process([make_envelope(VALID_SHIPMENT)])[0] for _ in range(4)]
    assert [o.status for o in outcomes] == ["PASSED"] * 4
    assert [o.duplicate for o in outcomes] == [False, True, True, True]
    assert len({o.record_id for o in outcomes}) == 1
    assert totals(pipeline.store) == (1, 0)
    stored = pipeline.store.get_record(outcomes[0].record_id or "")
    assert stored is not None
    assert stored.data["shipment_id"] == "SHIP-TRUE-003"
    assert stored.raw.to_bytes() == VALID_SHIPMENT


def test_invalid_event_is_stored_once(pipeline: Pipeline, make_envelope: EnvelopeFactory) -> None:
    """An invalid event is one failure record however often it is sent; resends are duplicates."""
    outcomes = [pipeline.process([make_envelope(INVALID_SHIPMENT)])[0] for _ in range(3)]
    assert [(o.status, o.duplicate) for o in outcomes] == [
        ("FAILED", False),
        ("FAILED", True),
        ("FAILED", True),
    ]
    assert len({o.failure_id for o in outcomes}) == 1
    assert outcomes[0].root_cause is RootCause.MISSING_FIELD
    assert outcomes[0].stage is Stage.SCHEMA
    assert {e.path for e in outcomes[0].errors} == {"shipment_id", "weight_kg", "priority"}
    failure = pipeline.store.get_failure(outcomes[0].failure_id or "")
    assert failure is not None
    assert failure.raw.to_bytes() == INVALID_SHIPMENT
    assert failure.source == {"kind": "test"}
    assert totals(pipeline.store) == (0, 1)


def test_copies_within_one_batch_are_duplicates(pipeline: Pipeline, make_envelope: EnvelopeFactory) -> None:
    """The second copy of an event in the same batch writes nothing new and says so."""
    batch = [
        make_envelope(raw) for raw in (VALID_SHIPMENT, INVALID_SHIPMENT, VALID_SHIPMENT, INVALID_SHIPMENT)
    ]
    outcomes = pipeline.process(batch)
    assert [(o.status, o.duplicate) for o in outcomes] == [
        ("PASSED", False),
        ("FAILED", False),
        ("PASSED", True),
        ("FAILED", True),
    ]
    assert totals(pipeline.store) == (1, 1)


def test_outcomes_keep_input_order(pipeline: Pipeline, make_envelope: EnvelopeFactory) -> None:
    """Outcomes come back in the order of the envelopes, whatever their status."""
    raws = [
        INVALID_SHIPMENT,
        shipment("A"),
        HEAVY_SHIPMENT,
        shipment("B"),
        EXTRA_FIELD,
        INVALID_UTF8,
        shipment("C"),
    ]
    outcomes = pipeline.process([make_envelope(raw) for raw in raws])
    assert [(o.status, o.root_cause) for o in outcomes] == [
        ("FAILED", RootCause.MISSING_FIELD),
        ("PASSED", None),
        ("FAILED", RootCause.BUSINESS_RULE_VIOLATION),
        ("PASSED", None),
        ("FAILED", RootCause.UNEXPECTED_FIELD),
        ("FAILED", RootCause.INVALID_ENCODING),
        ("PASSED", None),
    ]
    ids = [pipeline.store.get_record(o.record_id) for o in outcomes if o.record_id]
    assert [r.data["shipment_id"] for r in ids if r is not None] == ["A", "B", "C"]
    assert all(o.contract_ref == "shipment@1" for o in outcomes)


def test_identity_conflict_across_batches(pipeline: Pipeline, make_envelope: EnvelopeFactory) -> None:
    """The same shipment_id with other content later is an identity_conflict; the first record stays."""
    (first,) = pipeline.process([make_envelope(VALID_SHIPMENT)])
    (second,) = pipeline.process([make_envelope(GALWAY)])
    assert second.status == "FAILED"
    assert second.root_cause is RootCause.IDENTITY_CONFLICT
    assert second.stage is Stage.IDENTITY
    assert second.duplicate is False
    assert second.record_id is None
    failure = pipeline.store.get_failure(second.failure_id or "")
    assert failure is not None
    assert failure.conflicts_with == first.record_id
    assert failure.raw.to_bytes() == GALWAY
    assert failure.fingerprint == pipeline.registry.get("shipment", 1).fingerprint  # type: ignore[union-attr]
    record = pipeline.store.get_record(first.record_id or "")
    assert record is not None
    assert record.data["destination"] == "Dublin"
    assert record.raw.to_bytes() == VALID_SHIPMENT
    assert totals(pipeline.store) == (1, 1)


def test_resending_the_conflicting_event_writes_nothing(
    pipeline: Pipeline, make_envelope: EnvelopeFactory
) -> None:
    """Resending an event that conflicted is a duplicate of its failure; nothing new is stored."""
    pipeline.process([make_envelope(VALID_SHIPMENT)])
    (conflict,) = pipeline.process([make_envelope(GALWAY)])
    (again,) = pipeline.process([make_envelope(GALWAY)])
    assert again.root_cause is RootCause.IDENTITY_CONFLICT
    assert again.failure_id == conflict.failure_id
    assert again.duplicate is True
    assert totals(pipeline.store) == (1, 1)


def test_identity_conflict_within_one_batch(pipeline: Pipeline, make_envelope: EnvelopeFactory) -> None:
    """Two contents for one identity in one batch: the first is stored, the second is a conflict."""
    outcomes = pipeline.process([make_envelope(VALID_SHIPMENT), make_envelope(GALWAY), make_envelope(GALWAY)])
    assert [(o.status, o.root_cause, o.duplicate) for o in outcomes] == [
        ("PASSED", None, False),
        ("FAILED", RootCause.IDENTITY_CONFLICT, False),
        ("FAILED", RootCause.IDENTITY_CONFLICT, True),
    ]
    failure = pipeline.store.get_failure(outcomes[1].failure_id or "")
    assert failure is not None
    assert failure.conflicts_with == outcomes[0].record_id
    record = pipeline.store.get_record(outcomes[0].record_id or "")
    assert record is not None
    assert record.data["destination"] == "Dublin"
    assert totals(pipeline.store) == (1, 1)


def test_conflict_with_a_stored_record_inside_a_batch(
    pipeline: Pipeline, make_envelope: EnvelopeFactory
) -> None:
    """In a later batch, the stored original is a duplicate and the other content a conflict."""
    pipeline.process([make_envelope(VALID_SHIPMENT)])
    outcomes = pipeline.process(
        [make_envelope(GALWAY), make_envelope(VALID_SHIPMENT), make_envelope(shipment("N"))]
    )
    assert [(o.status, o.root_cause, o.duplicate) for o in outcomes] == [
        ("FAILED", RootCause.IDENTITY_CONFLICT, False),
        ("PASSED", None, True),
        ("PASSED", None, False),
    ]
    assert totals(pipeline.store) == (2, 1)


def test_same_content_with_other_bytes_is_a_duplicate(
    pipeline: Pipeline, make_envelope: EnvelopeFactory
) -> None:
    """Reordered keys and whitespace give the same canonical record: a duplicate, not a conflict."""
    reordered = b'{"priority":2,"destination":"Dublin","weight_kg":15.2,"shipment_id":"SHIP-TRUE-003"}'
    (first,) = pipeline.process([make_envelope(VALID_SHIPMENT)])
    (second,) = pipeline.process([make_envelope(reordered)])
    assert (second.status, second.duplicate, second.record_id) == ("PASSED", True, first.record_id)


def test_int_and_float_weights_are_different_content(
    pipeline: Pipeline, make_envelope: EnvelopeFactory
) -> None:
    """15 and 15.0 are kept as sent, so they are different content for one identity: a conflict."""
    pipeline.process([make_envelope(shipment("W", 15))])
    (second,) = pipeline.process([make_envelope(shipment("W", 15.0))])
    assert second.root_cause is RootCause.IDENTITY_CONFLICT


def test_unknown_contract_and_version_are_failures(
    pipeline: Pipeline, make_envelope: EnvelopeFactory
) -> None:
    """Unrouted, unknown-contract and unknown-version events become routing failures without a fingerprint."""
    envelopes = [
        make_envelope(VALID_SHIPMENT, contract="parcel", version="1"),
        make_envelope(VALID_SHIPMENT, version="9"),
        make_envelope(VALID_SHIPMENT, version="01"),
        make_envelope(VALID_SHIPMENT, contract=None, version=None),
    ]
    outcomes = pipeline.process(envelopes)
    assert [(o.root_cause, o.contract_ref) for o in outcomes] == [
        (RootCause.UNKNOWN_CONTRACT, "parcel@1"),
        (RootCause.UNKNOWN_VERSION, "shipment@9"),
        (RootCause.UNKNOWN_VERSION, "shipment@01"),
        (RootCause.UNROUTED, "?@?"),
    ]
    assert all(o.stage is Stage.ROUTING for o in outcomes)
    failures = [pipeline.store.get_failure(o.failure_id or "") for o in outcomes]
    for failure in failures:
        assert isinstance(failure, FailureRecord)
        assert (failure.contract, failure.version, failure.fingerprint) == (None, None, None)
        assert failure.raw.to_bytes() == VALID_SHIPMENT
    assert "known versions: 1, 2" in outcomes[1].errors[0].message
    assert len({o.failure_id for o in outcomes}) == 4
    assert totals(pipeline.store) == (0, 4)


def test_unknown_version_is_not_validated(pipeline: Pipeline, make_envelope: EnvelopeFactory) -> None:
    """An event for an unknown version carries only the routing error, even if its payload is broken."""
    (outcome,) = pipeline.process([make_envelope(b"{not json", version="9")])
    assert outcome.root_cause is RootCause.UNKNOWN_VERSION
    assert len(outcome.errors) == 1


def test_idempotency_key_identifies_failures(pipeline: Pipeline, make_envelope: EnvelopeFactory) -> None:
    """A retry under one idempotency key is a duplicate, and another key is another failure."""
    (first,) = pipeline.process([make_envelope(INVALID_SHIPMENT, idempotency_key="order-7")])
    (again,) = pipeline.process([make_envelope(INVALID_SHIPMENT + b" ", idempotency_key="order-7")])
    assert (again.failure_id, again.duplicate) == (first.failure_id, True)
    (other,) = pipeline.process([make_envelope(INVALID_SHIPMENT, idempotency_key="order-8")])
    assert other.failure_id != first.failure_id
    assert other.duplicate is False


def test_a_key_reused_for_other_content_stores_it_apart(
    pipeline: Pipeline, make_envelope: EnvelopeFactory
) -> None:
    """Another failing payload under a used key is its own failure, naming the first, which is kept."""
    (first,) = pipeline.process([make_envelope(INVALID_SHIPMENT, idempotency_key="order-7")])
    (second,) = pipeline.process([make_envelope(HEAVY_SHIPMENT, idempotency_key="order-7")])
    assert second.duplicate is False
    assert second.failure_id != first.failure_id
    assert second.root_cause is RootCause.BUSINESS_RULE_VIOLATION
    assert [e.type for e in second.errors] == ["business_rule", "idempotency_key_reused"]
    stored = pipeline.store.get_failure(second.failure_id or "")
    kept = pipeline.store.get_failure(first.failure_id or "")
    assert stored is not None
    assert kept is not None
    assert (stored.raw.to_bytes(), stored.conflicts_with, stored.errors) == (
        HEAVY_SHIPMENT,
        first.failure_id,
        second.errors,
    )
    assert kept.raw.to_bytes() == INVALID_SHIPMENT
    (retried,) = pipeline.process([make_envelope(HEAVY_SHIPMENT, idempotency_key="order-7")])
    assert (retried.failure_id, retried.duplicate) == (second.failure_id, True)
    assert totals(pipeline.store) == (0, 2)


def test_a_key_reused_within_one_batch_loses_nothing(
    pipeline: Pipeline, make_envelope: EnvelopeFactory
) -> None:
    """Two Kafka messages with one idempotency-key header and other bytes in one batch are both stored."""
    at = [("kafka", "shipments", "0", "5"), ("kafka", "shipments", "0", "6")]
    raws = [INVALID_SHIPMENT, EXTRA_FIELD]
    outcomes = pipeline.process(
        [
            make_envelope(raw, idempotency_key="k", transport_identity=t)
            for raw, t in zip(raws, at, strict=True)
        ]
    )
    assert [o.duplicate for o in outcomes] == [False, False]
    stored = pipeline.store.get_failure(outcomes[1].failure_id or "")
    assert stored is not None
    assert stored.conflicts_with == outcomes[0].failure_id
    assert totals(pipeline.store) == (0, 2)


def test_a_keyed_identity_conflict_does_not_hide_behind_the_key(
    pipeline: Pipeline, make_envelope: EnvelopeFactory
) -> None:
    """A conflicting valid event under a key that already names a failure is still stored apart."""
    pipeline.process([make_envelope(VALID_SHIPMENT)])
    (failed,) = pipeline.process([make_envelope(INVALID_SHIPMENT, idempotency_key="k")])
    (conflict,) = pipeline.process([make_envelope(GALWAY, idempotency_key="k")])
    assert conflict.duplicate is False
    assert conflict.failure_id != failed.failure_id
    assert conflict.root_cause is RootCause.IDENTITY_CONFLICT
    assert totals(pipeline.store) == (1, 2)


def test_transport_identity_identifies_failures(pipeline: Pipeline, make_envelope: EnvelopeFactory) -> None:
    """The same bytes at two Kafka offsets are two failures; a redelivered offset is a duplicate."""
    at = [
        ("kafka", "shipments", "0", "5"),
        ("kafka", "shipments", "0", "6"),
        ("kafka", "shipments", "0", "5"),
    ]
    outcomes = pipeline.process([make_envelope(INVALID_SHIPMENT, transport_identity=t) for t in at])
    assert [o.duplicate for o in outcomes] == [False, False, True]
    assert outcomes[0].failure_id == outcomes[2].failure_id != outcomes[1].failure_id


def test_a_truncated_envelope_is_a_payload_too_large_failure_keeping_its_prefix(
    pipeline: Pipeline, sqlite_store: SqliteStore, make_envelope: EnvelopeFactory
) -> None:
    """An envelope holding only the first bytes of a line is never judged: it is a payload_too_large
    failure whose raw payload keeps the prefix and the full size, stored once, in its batch's order."""
    whole = VALID_SHIPMENT + b" " * 2_000_000
    cut = Truncation(len(whole), sha256_hex(whole))
    envelopes = [
        make_envelope(VALID_SHIPMENT),
        make_envelope(VALID_SHIPMENT[:40], truncated=cut, location=("file", "/in.jsonl", "2")),
    ]
    passed, too_large = pipeline.process(envelopes)
    assert passed.status == "PASSED"
    assert (too_large.root_cause, too_large.duplicate) == (RootCause.PAYLOAD_TOO_LARGE, False)
    failure = sqlite_store.get_failure(too_large.failure_id or "")
    assert isinstance(failure, FailureRecord)
    assert (failure.raw.to_bytes(), failure.raw.size, failure.raw.truncated) == (
        VALID_SHIPMENT[:40],
        len(whole),
        True,
    )
    assert failure.raw.sha256 == sha256_hex(VALID_SHIPMENT[:40])
    assert (failure.contract, failure.version) == ("shipment", 1)
    assert failure.errors[0].message == (
        f"The payload is {len(whole)} bytes; the limit is 1048576 bytes. Only the first 40 bytes are kept."
    )
    (again,) = pipeline.process(envelopes[1:])
    assert (again.failure_id, again.duplicate) == (too_large.failure_id, True)


def test_a_truncated_envelope_to_an_unknown_contract_is_a_routing_failure(
    pipeline: Pipeline, make_envelope: EnvelopeFactory
) -> None:
    """Routing comes first for a truncated envelope too: an unknown version is the root cause."""
    cut = Truncation(10_000_000, sha256_hex(b"x"))
    (outcome,) = pipeline.process([make_envelope(b"x", "shipment", "9", truncated=cut)])
    assert outcome.root_cause is RootCause.UNKNOWN_VERSION


def test_records_carry_the_fingerprint_and_metadata(
    registry: Registry, sqlite_store: SqliteStore, make_envelope: EnvelopeFactory
) -> None:
    """Accepted records and failures carry the contract fingerprint, receive time and source metadata."""
    pipeline = Pipeline(registry, sqlite_store)
    source = {"kind": "file", "path": "in.jsonl", "line": 3, "offset": 120}
    passed, failed = pipeline.process(
        [make_envelope(VALID_SHIPMENT, source=source), make_envelope(HEAVY_SHIPMENT, source=source)]
    )
    fingerprint = registry.get("shipment", 1).fingerprint  # type: ignore[union-attr]
    record = sqlite_store.get_record(passed.record_id or "")
    failure = sqlite_store.get_failure(failed.failure_id or "")
    assert isinstance(record, AcceptedRecord)
    assert isinstance(failure, FailureRecord)
    assert record.fingerprint == failure.fingerprint == fingerprint
    assert record.source == failure.source == source
    assert record.received_at == failure.received_at == make_envelope(b"").received_at
    page = sqlite_store.query_failures(FailureQuery(root_cause=RootCause.BUSINESS_RULE_VIOLATION))
    assert [f.failure_id for f in page.items] == [failed.failure_id]


def test_decide_is_pure(pipeline: Pipeline, make_envelope: EnvelopeFactory) -> None:
    """decide() routes and validates without storing anything."""
    decision, contract = pipeline.decide(make_envelope(VALID_SHIPMENT))
    assert decision.passed
    assert contract is pipeline.registry.get("shipment", 1)
    decision, contract = pipeline.decide(make_envelope(VALID_SHIPMENT, version="3"))
    assert (decision.root_cause, contract) == (RootCause.UNKNOWN_VERSION, None)
    assert totals(pipeline.store) == (0, 0)


def test_empty_batch_writes_nothing(pipeline: Pipeline) -> None:
    """An empty batch gives no outcomes and stores nothing."""
    assert pipeline.process([]) == []
    assert totals(pipeline.store) == (0, 0)


def batch_with_repeats(make_envelope: EnvelopeFactory) -> list[Envelope]:
    """Seven events whose copies and conflicting contents fall on both sides of a 3-event boundary."""
    raws = [shipment("A"), shipment("B"), INVALID_SHIPMENT, shipment("A"), shipment("B", 9.0)]
    return [make_envelope(raw) for raw in [*raws, INVALID_SHIPMENT, shipment("C")]]


def test_a_batch_larger_than_a_chunk_has_the_outcomes_of_one_batch(
    registry: Registry, make_envelope: EnvelopeFactory, tmp_path: Path
) -> None:
    """Stored as several transactions, a batch gives exactly the outcomes and rows of one transaction."""
    whole = Pipeline(registry, SqliteStore(tmp_path / "whole.db", writer="inline"))
    chunked = Pipeline(registry, SqliteStore(tmp_path / "chunked.db", writer="inline"), transaction_size=3)
    expected = whole.process(batch_with_repeats(make_envelope))
    assert chunked.process(batch_with_repeats(make_envelope)) == expected
    assert [(o.status, o.duplicate, o.root_cause) for o in expected] == [
        ("PASSED", False, None),
        ("PASSED", False, None),
        ("FAILED", False, RootCause.MISSING_FIELD),
        ("PASSED", True, None),
        ("FAILED", False, RootCause.IDENTITY_CONFLICT),
        ("FAILED", True, RootCause.MISSING_FIELD),
        ("PASSED", False, None),
    ]
    assert totals(chunked.store) == totals(whole.store) == (3, 2)


def test_the_stream_matches_batch_after_batch(
    registry: Registry, make_envelope: EnvelopeFactory, tmp_path: Path
) -> None:
    """process_stream, which decides a batch while the last one is written, equals one process per batch."""
    events = batch_with_repeats(make_envelope)
    batches = [events[:2], events[2:5], events[5:]]
    one_by_one = Pipeline(registry, SqliteStore(tmp_path / "a.db", writer="inline"))
    expected = [one_by_one.process(batch) for batch in batches]
    store = SqliteStore.from_url(f"sqlite:///{tmp_path}/b.db")  # the writer process, as the CLI uses it
    try:
        assert list(Pipeline(registry, store).process_stream(iter(batches))) == expected
    finally:
        store.close()


def test_a_source_failing_mid_stream_leaves_the_store_free(
    registry: Registry, make_envelope: EnvelopeFactory, tmp_path: Path
) -> None:
    """When reading the next batch fails mid-write, that write lands and the store stays usable."""

    def batches() -> Iterator[list[Envelope]]:
        yield [make_envelope(shipment("A"))]
        raise OSError("the file went away")

    store = SqliteStore.from_url(f"sqlite:///{tmp_path}/s.db")
    try:
        pipeline = Pipeline(registry, store)
        with pytest.raises(OSError, match="went away"):
            list(pipeline.process_stream(batches()))
        assert totals(store) == (1, 0)
        assert pipeline.process([make_envelope(shipment("B"))])[0].duplicate is False
    finally:
        store.close()


def test_a_body_of_unknown_size_is_identified_by_its_prefix(
    pipeline: Pipeline, make_envelope: EnvelopeFactory
) -> None:
    """A body over the limit whose size is unknown is recorded ``size_unknown``; the same prefix again is
    the same failure, and another prefix another."""
    first = pipeline.process_oversized(make_envelope(b'{"a": "xxxx'), None, 100)
    again = pipeline.process_oversized(make_envelope(b'{"a": "xxxx'), None, 100)
    other = pipeline.process_oversized(make_envelope(b'{"b": "xxxx'), None, 100)
    assert (again.failure_id, again.duplicate) == (first.failure_id, True)
    assert other.failure_id != first.failure_id
    stored = pipeline.store.get_failure(first.failure_id or "")
    assert stored is not None
    assert (stored.raw.truncated, stored.raw.size_unknown) == (True, True)
    assert stored.errors[0].type == "request_too_large"


def test_a_body_read_to_its_end_is_identified_by_its_whole_bytes(
    pipeline: Pipeline, make_envelope: EnvelopeFactory
) -> None:
    """A body over the limit read to its end has the id of its whole bytes, whatever prefix is kept."""
    whole = b'{"a": "' + b"x" * 500 + b'"}'
    cut = Truncation(len(whole), sha256_hex(whole))
    outcome = pipeline.process_oversized(make_envelope(whole[:64], truncated=cut), len(whole), 100)
    bare = pipeline.process([make_envelope(whole)])[0]
    assert outcome.failure_id == bare.failure_id
    stored = pipeline.store.get_failure(outcome.failure_id or "")
    assert stored is not None
    assert (stored.raw.size, stored.raw.truncated, stored.raw.size_unknown) == (len(whole), True, False)


def test_an_oversized_body_under_a_reused_key_is_stored_apart(
    pipeline: Pipeline, make_envelope: EnvelopeFactory
) -> None:
    """A body over the limit sent under a key that names another failure is its own failure."""
    (first,) = pipeline.process([make_envelope(INVALID_SHIPMENT, idempotency_key="k")])
    big = pipeline.process_oversized(make_envelope(b'{"a": "xxxx', idempotency_key="k"), 9000, 100)
    assert big.duplicate is False
    assert big.failure_id != first.failure_id
    assert [e.type for e in big.errors] == ["request_too_large", "idempotency_key_reused"]


def test_a_batch_is_encoded_for_the_store_when_it_is_decided(
    pipeline: Pipeline, make_envelope: EnvelopeFactory
) -> None:
    """Prepare builds the batch's SQLite rows (so they are built beside the write before it); submitting
    them stores exactly the decided records and failures."""
    prepared = pipeline.prepare([make_envelope(shipment("S-1")), make_envelope(INVALID_SHIPMENT)])
    rows = prepared.write.encoded
    assert isinstance(rows, Rows)
    assert ([row[0] for row in rows.records], [row[0] for row in rows.failures]) == (
        list(prepared.first),
        [failure.failure_id for failure in prepared.failures],
    )
    outcomes = pipeline.finish(prepared, pipeline.submit(prepared))
    assert [o.status for o in outcomes] == ["PASSED", "FAILED"]
    assert totals(pipeline.store) == (1, 1)


def test_a_write_staged_without_rows_is_encoded_when_submitted(
    sqlite_store: SqliteStore, pipeline: Pipeline, make_envelope: EnvelopeFactory
) -> None:
    """A staged write that carries no SQLite rows (another store staged it) is encoded at submit, not lost."""
    prepared = pipeline.prepare([make_envelope(shipment("S-2")), make_envelope(INVALID_SHIPMENT)])
    bare = StagedWrite(prepared.write.records, prepared.write.failures)
    report = sqlite_store.submit(bare).result()
    assert (len(report.new_records), len(report.new_failures)) == (1, 1)
    assert totals(sqlite_store) == (1, 1)
