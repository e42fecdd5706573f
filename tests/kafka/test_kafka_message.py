"""A Kafka message becomes an envelope (pure): exact bytes, coordinates, metadata, idempotency key."""

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from sigma_aetl.core.envelope import Envelope
from sigma_aetl.core.ids import failure_id
from sigma_aetl.kafka.message import (
    LATEST_TIMESTAMP_MS,
    KafkaMessage,
    bytes_field,
    next_offsets,
    timestamp_text,
    to_envelope,
)

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
ROUTES = {"shipments": ("shipment", "1")}


def message(**fields: object) -> KafkaMessage:
    """A message on ``shipments`` partition 2 offset 41, overridable."""
    values: dict[str, object] = {"topic": "shipments", "partition": 2, "offset": 41, "value": b'{"a": 1}'}
    return KafkaMessage(**{**values, **fields})  # type: ignore[arg-type]  # test-only overrides


def envelope(**fields: object) -> Envelope:
    """The envelope of :func:`message` in group ``g``."""
    return to_envelope(message(**fields), ROUTES, "g", NOW)


def test_the_value_bytes_are_kept_exactly() -> None:
    """The envelope's raw bytes are the message value, byte for byte, invalid UTF-8 included."""
    value = b'  {"shipment_id": "\xff"}\r\n'
    assert envelope(value=value).raw == value


def test_a_tombstone_becomes_an_empty_event_marked_as_such() -> None:
    """A null value (tombstone) becomes empty raw bytes, and the metadata says it was a tombstone."""
    tombstone = envelope(value=None)
    assert tombstone.raw == b""
    assert tombstone.source["tombstone"] is True
    assert envelope().source["tombstone"] is False


def test_transport_identity_is_topic_partition_offset() -> None:
    """The transport identity is ("kafka", topic, partition, offset), the failure id's source."""
    built = envelope()
    assert built.transport_identity == ("kafka", "shipments", "2", "41")
    assert built.source_identity() == ("kafka", "shipments", "2", "41")
    assert failure_id(built.contract, built.version, built.source_identity()) == failure_id(
        "shipment", "1", ("kafka", "shipments", "2", "41")
    )


def test_the_idempotency_key_header_names_the_event() -> None:
    """An ``idempotency-key`` header becomes the envelope's key, and the failure id derives from it."""
    built = envelope(headers=(("idempotency-key", b"order-7"),))
    assert built.idempotency_key == "order-7"
    assert built.source_identity() == ("key", "order-7")


def test_unusable_idempotency_keys_fall_back_to_the_coordinates() -> None:
    """An empty, null, non-UTF-8 or ambiguous idempotency key is ignored; the coordinates identify."""
    for bad in ((b"",), (None,), (b"\xff",), (b"a", b"b")):
        built = envelope(headers=tuple(("idempotency-key", value) for value in bad))
        assert built.idempotency_key is None
        assert built.source_identity()[0] == "kafka"


def test_source_metadata_describes_the_message() -> None:
    """Metadata: kind, topic, partition, offset, key, timestamp, decoded headers, group, tombstone, route."""
    built = envelope(
        key=b"SHIP-1",
        headers=(("trace", b"abc"), ("bin", b"\xff\x00"), ("empty", None)),
        timestamp_ms=1_714_564_800_123,
        timestamp_type="create_time",
    )
    assert built.source == {
        "kind": "kafka",
        "topic": "shipments",
        "partition": 2,
        "offset": 41,
        "key": {"encoding": "utf-8", "text": "SHIP-1"},
        "timestamp": "2024-05-01T12:00:00.123+00:00",
        "timestamp_type": "create_time",
        "headers": [
            {"name": "trace", "value": {"encoding": "utf-8", "text": "abc"}},
            {"name": "bin", "value": {"encoding": "base64", "text": "/wA="}},
            {"name": "empty", "value": None},
        ],
        "consumer_group": "g",
        "tombstone": False,
        "route": {"by": "topic"},
    }
    assert built.received_at == NOW


def test_keys_and_timestamps_that_are_absent() -> None:
    """No key is null; a binary key is base64; an unavailable timestamp is null."""
    assert envelope().source["key"] is None
    assert envelope(key=b"\x00\xff").source["key"] == {"encoding": "base64", "text": "AP8="}
    assert envelope(timestamp_ms=None).source["timestamp"] is None
    assert timestamp_text(-1) is None
    assert bytes_field(b"") == {"encoding": "utf-8", "text": ""}


@settings(max_examples=500)
@given(st.integers(min_value=0, max_value=LATEST_TIMESTAMP_MS) | st.integers(0, 4_102_444_800_000))
def test_a_timestamp_reads_as_datetime_writes_it(timestamp_ms: int) -> None:
    """Every representable timestamp is written exactly as ``datetime.isoformat`` writes it (the text the
    worker stored before its seconds were remembered)."""
    expected = (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=timestamp_ms)).isoformat(
        timespec="milliseconds"
    )
    assert timestamp_text(timestamp_ms) == expected


def test_a_timestamp_past_year_9999_is_kept_as_its_number() -> None:
    """A producer's timestamp no datetime holds is null as text and kept as a number, not a crash."""
    for stamp in (LATEST_TIMESTAMP_MS + 1, 2**62, 2**63 - 1):
        source = envelope(timestamp_ms=stamp, timestamp_type="create_time").source
        assert (source["timestamp"], source["timestamp_ms"]) == (None, stamp)
        assert source["timestamp_type"] == "create_time"
    assert "timestamp_ms" not in envelope(timestamp_ms=LATEST_TIMESTAMP_MS).source


def test_routing_comes_from_the_topic_map_or_the_headers() -> None:
    """A mapped topic names its contract; another topic's headers name theirs; neither names nothing."""
    assert envelope().contract_ref == "shipment@1"
    routed = envelope(topic="events", headers=(("sigma-contract", b"shipment"), ("sigma-version", b"2")))
    assert (routed.contract_ref, routed.source["route"]) == ("shipment@2", {"by": "headers"})
    assert envelope(topic="events").contract_ref == "?@?"


def test_next_offsets_are_the_highest_stored_offset_plus_one_per_partition() -> None:
    """The offsets to commit after a batch: per partition, one past the highest offset in the batch."""
    batch = [envelope(partition=p, offset=o) for p, o in [(0, 5), (0, 7), (1, 0), (0, 6)]]
    batch.append(Envelope(raw=b"", contract=None, version=None, received_at=NOW, source={"kind": "file"}))
    assert next_offsets(batch) == {("shipments", 0): 8, ("shipments", 1): 1}


@settings(max_examples=200, deadline=None)
@given(
    value=st.none() | st.binary(max_size=64),
    key=st.none() | st.binary(max_size=16),
    header_list=st.lists(st.tuples(st.text(max_size=16), st.none() | st.binary(max_size=16)), max_size=6),
    topic=st.sampled_from(["shipments", "events"]),
    timestamp=st.none() | st.integers(min_value=-1, max_value=2**41),
)
def test_conversion_never_raises_and_is_deterministic(
    value: bytes | None,
    key: bytes | None,
    header_list: list[tuple[str, bytes | None]],
    topic: str,
    timestamp: int | None,
) -> None:
    """Any message converts, keeps its value's bytes, and converts the same way twice."""
    built = message(topic=topic, value=value, key=key, headers=tuple(header_list), timestamp_ms=timestamp)
    first = to_envelope(built, ROUTES, "g", NOW)
    assert first == to_envelope(built, ROUTES, "g", NOW)
    assert first.raw == (value or b"")
