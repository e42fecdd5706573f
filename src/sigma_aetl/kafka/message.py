"""A consumed Kafka message as plain data, and its conversion into an envelope. Pure: no client, no I/O.

The envelope keeps the message value's bytes exactly (a null value — a tombstone — becomes empty bytes,
which the validator turns into a ``malformed_json`` failure: never a crash, never a drop). Its transport
identity is ``("kafka", topic, partition, offset)``, so a redelivered message gets the same failure id and
writes nothing new; an ``idempotency-key`` header, when present, names the event instead.

Source metadata (stored on every record)::

    {"kind": "kafka", "topic": "shipments", "partition": 0, "offset": 42,
     "key": {"encoding": "utf-8", "text": "SHIP-1"},          # or base64; null when there is no key
     "timestamp": "2024-05-01T12:00:00.000+00:00", "timestamp_type": "create_time",
     "headers": [{"name": "sigma-contract", "value": {"encoding": "utf-8", "text": "shipment"}}],
     "consumer_group": "sigma-aetl", "tombstone": false, "route": {"by": "topic"}}
"""

import base64
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Literal, NamedTuple

from sigma_aetl.core.envelope import Envelope
from sigma_aetl.core.ids import SourceIdentity
from sigma_aetl.kafka.routing import IDEMPOTENCY_HEADER, Headers, Route, RouteMap, header_text, resolve

TimestampType = Literal["create_time", "log_append_time"]
Partition = tuple[str, int]
"""A topic and a partition number."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_TIMESTAMP_MS = 253_402_300_799_999
"""9999-12-31T23:59:59.999Z, the last instant a ``datetime`` holds. A producer may set any 64-bit
timestamp; a later one is kept as its number (``timestamp_ms``), not written as text."""


class KafkaMessage(NamedTuple):
    """One consumed message: its coordinates, key, value, headers and timestamp, free of client objects.

    A named tuple, built once per consumed message: half the cost of a frozen dataclass (0.9 µs)."""

    topic: str
    partition: int
    offset: int
    value: bytes | None
    key: bytes | None = None
    headers: tuple[tuple[str, bytes | None], ...] = ()
    timestamp_ms: int | None = None
    timestamp_type: TimestampType | None = None


def to_envelope(message: KafkaMessage, routes: RouteMap, group: str, received_at: datetime) -> Envelope:
    """The envelope of one message, routed by ``routes`` (topic map) or by its headers."""
    route = resolve(message.topic, message.headers, routes)
    return Envelope(
        raw=message.value if message.value is not None else b"",
        contract=route.contract,
        version=route.version,
        received_at=received_at,
        source=source_metadata(message, group, route),
        idempotency_key=idempotency_key(message.headers),
        transport_identity=transport_identity(message),
    )


def transport_identity(message: KafkaMessage) -> SourceIdentity:
    """``("kafka", topic, partition, offset)``: unique per message within a cluster."""
    return ("kafka", message.topic, str(message.partition), str(message.offset))


def idempotency_key(headers: Headers) -> str | None:
    """The ``idempotency-key`` header's text; None when absent, empty, null, ambiguous or not UTF-8."""
    if not headers:
        return None
    key = header_text(headers, IDEMPOTENCY_HEADER)
    if not key or "\ufffd" in key:
        return None
    return key


def source_metadata(message: KafkaMessage, group: str, route: Route) -> dict[str, Any]:
    """The transport metadata stored on the message's record (see the module docstring); a timestamp past
    :data:`LATEST_TIMESTAMP_MS` is null as text, and its number is kept as ``timestamp_ms``."""
    stamp = message.timestamp_ms
    found = {
        "kind": "kafka",
        "topic": message.topic,
        "partition": message.partition,
        "offset": message.offset,
        "key": bytes_field(message.key),
        "timestamp": timestamp_text(stamp),
        "timestamp_type": message.timestamp_type if stamp is not None else None,
        "headers": [{"name": name, "value": bytes_field(value)} for name, value in message.headers],
        "consumer_group": group,
        "tombstone": message.value is None,
        "route": route.metadata(),
    }
    if stamp is not None and stamp > LATEST_TIMESTAMP_MS:
        found["timestamp_ms"] = stamp
    return found


def bytes_field(data: bytes | None) -> dict[str, str] | None:
    """Bytes as JSON: ``{"encoding": "utf-8", "text": ...}``, base64 when not UTF-8, None for null."""
    if data is None:
        return None
    try:
        return {"encoding": "utf-8", "text": data.decode("utf-8")}
    except UnicodeDecodeError:
        return {"encoding": "base64", "text": base64.b64encode(data).decode("ascii")}


def timestamp_text(timestamp_ms: int | None) -> str | None:
    """Milliseconds since the epoch as ISO 8601 UTC (millisecond precision), as ``datetime.isoformat``
    writes it; None when unavailable (negative) or past :data:`LATEST_TIMESTAMP_MS`."""
    if timestamp_ms is None or not 0 <= timestamp_ms <= LATEST_TIMESTAMP_MS:
        return None
    second, millis = divmod(timestamp_ms, 1000)
    return f"{_second_text(second)}.{millis:03d}+00:00"


@lru_cache(maxsize=1024)
def _second_text(second: int) -> str:
    """``YYYY-MM-DDTHH:MM:SS`` of a second since the epoch. Remembered: a batch's messages mostly share a
    few seconds, and building the ``datetime`` is most of the cost (1.8 µs a message before, 0.4 after)."""
    return (_EPOCH + timedelta(seconds=second)).isoformat()[:19]


def next_offsets(envelopes: Iterable[Envelope]) -> dict[Partition, int]:
    """Per partition, the offset to commit once ``envelopes`` are stored: the highest offset plus one."""
    offsets: dict[Partition, int] = {}
    for envelope in envelopes:
        source = envelope.source
        if source.get("kind") != "kafka":
            continue
        where = (source["topic"], source["partition"])
        offsets[where] = max(offsets.get(where, 0), source["offset"] + 1)
    return offsets
