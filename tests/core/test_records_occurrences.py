"""A failure record's identity kind and occurrences: what is written, and what a read adds beside it."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from sigma_aetl.core import serial
from sigma_aetl.core.contract import Contract
from sigma_aetl.core.envelope import Envelope
from sigma_aetl.core.ids import identity_kind
from sigma_aetl.core.records import Arrival, FailureRecord, Occurrences, build_record, written_json
from sigma_aetl.core.validator import validate
from sigma_aetl.testing import INVALID_SHIPMENT

NOW = datetime(2024, 5, 1, 12, tzinfo=UTC)


def failure(shipment: Contract, **fields: object) -> FailureRecord:
    """The failure record of INVALID_SHIPMENT for shipment@1, from an envelope with ``fields``."""
    values: dict[str, object] = {"contract": "shipment", "version": "1", "received_at": NOW, **fields}
    envelope = Envelope(raw=INVALID_SHIPMENT, **values)  # type: ignore[arg-type]
    record = build_record(envelope, validate(shipment, envelope.raw), shipment)
    assert isinstance(record, FailureRecord)
    return record


@pytest.mark.parametrize(
    ("identity", "kind"),
    [
        (("key", "evt-1"), "key"),
        (("kafka", "events", "0", "7"), "transport"),
        (("file", "/data/a.jsonl", "3"), "transport"),
        (("raw", "ab12"), "raw"),
        (("raw-prefix", "ab12", "20000000"), "raw"),
    ],
)
def test_identity_kinds(identity: tuple[str, ...], kind: str) -> None:
    """A source identity is a key, the transport's coordinates, or made of the bytes (a prefix too)."""
    assert identity_kind(identity) == kind


def test_failure_records_say_what_their_id_came_from(shipment: Contract) -> None:
    """A failure built from an envelope records the kind of its source identity; only raw ones count."""
    keyed = failure(shipment, idempotency_key="evt-1")
    kafka = failure(shipment, transport_identity=("kafka", "events", "0", "7"))
    bare = failure(shipment)
    assert [f.identified_by for f in (keyed, kafka, bare)] == ["key", "transport", "raw"]
    assert [f.counts_arrivals for f in (keyed, kafka, bare)] == [False, False, True]


def test_written_json_is_the_record_without_occurrences(shipment: Contract) -> None:
    """What a store keeps is the record's JSON without an occurrences key, and reads back equal to it."""
    record = failure(shipment, source={"kind": "http", "big": 2**80})
    seen = record.with_occurrences(5)
    for written in (written_json(record), written_json(seen)):
        assert "occurrences" not in orjson.loads(written)
        assert serial.loads(FailureRecord, written) == record
        assert serial.loads(FailureRecord, written).occurrences is None
    assert written_json(record) == serial.dumps(record).replace(b',"occurrences":null', b"")


def test_occurrences_do_not_change_what_a_record_is(shipment: Contract) -> None:
    """Two records equal as written stay equal whatever their occurrences; the decision is the record."""
    record = failure(shipment)
    assert record.with_occurrences(3) == record
    assert replace(record, errors=()).with_occurrences(3) != record


def test_what_a_store_did_not_keep_defaults_to_the_records_own_arrival(shipment: Contract) -> None:
    """A record read with no occurrence data is seen once, at its own receipt, its own arrival the latest."""
    record = failure(shipment, source={"kind": "http", "request_id": "r1"})
    assert record.with_occurrences().occurrences == Occurrences(
        count=1, first_seen=NOW, last_seen=NOW, latest=(Arrival(received_at=NOW, source=record.source),)
    )


def test_first_and_last_seen_never_leave_out_the_records_own_receipt(shipment: Contract) -> None:
    """First seen is never after, and last seen never before, the record's own received_at."""
    record = failure(shipment)
    later, earlier = NOW + timedelta(hours=1), NOW - timedelta(hours=1)
    assert record.with_occurrences(2, later, later).occurrences == Occurrences(
        count=2, first_seen=NOW, last_seen=later, latest=(record.first_arrival(),)
    )
    seen = record.with_occurrences(2, earlier, earlier).occurrences
    assert seen is not None
    assert (seen.first_seen, seen.last_seen) == (earlier, NOW)


def test_occurrences_round_trip_through_json(shipment: Contract) -> None:
    """A record read with its occurrences writes them as JSON (the API's shape) and reads them back."""
    record = failure(shipment)
    arrival = Arrival(received_at=NOW + timedelta(microseconds=7), source={"kind": "http", "n": 2**70})
    seen = record.with_occurrences(2, None, arrival.received_at, (record.first_arrival(), arrival))
    back = serial.loads(FailureRecord, serial.dumps(seen))
    assert back.occurrences == seen.occurrences
