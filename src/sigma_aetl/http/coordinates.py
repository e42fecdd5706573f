"""Kafka coordinates sent over HTTP: an orchestrator that consumed a message (n8n's Kafka Trigger, say)
forwards it to ``/v1/ingest`` with ``X-Kafka-Topic``, ``X-Kafka-Partition`` and ``X-Kafka-Offset``.

The gateway records them as the event's source coordinates and identifies the arrival by them exactly as
the native worker does, ``("kafka", topic, partition, offset)``: the same message stored again, by either
path, writes nothing new. All three headers or none; a malformed or partial set is the client's error
(a 400 problem), never guessed at or ignored.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass

from sigma_aetl.core.ids import SourceIdentity

TOPIC_HEADER, PARTITION_HEADER, OFFSET_HEADER = "x-kafka-topic", "x-kafka-partition", "x-kafka-offset"
HEADERS = (TOPIC_HEADER, PARTITION_HEADER, OFFSET_HEADER)
_TOPIC = re.compile(r"[A-Za-z0-9._-]{1,249}")  # Kafka's own rule for topic names
_NUMBER = re.compile(r"0|[1-9][0-9]{0,18}")
_MAX = 2**63 - 1  # offsets and partitions are signed 64- and 32-bit in the protocol


class BadCoordinates(ValueError):
    """The Kafka coordinate headers are partial or malformed; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Coordinates:
    """Where a forwarded Kafka message was read."""

    topic: str
    partition: int
    offset: int

    def identity(self) -> SourceIdentity:
        """The arrival's identity, the same as the native worker gives the message."""
        return ("kafka", self.topic, str(self.partition), str(self.offset))

    def metadata(self) -> dict[str, object]:
        """What the event's source metadata records."""
        return {"topic": self.topic, "partition": self.partition, "offset": self.offset}


def coordinates(headers: Mapping[str, str]) -> Coordinates | None:
    """The coordinates the headers give; None when none of them is sent."""
    sent = [name for name in HEADERS if name in headers]
    if not sent:
        return None
    if len(sent) != len(HEADERS):
        missing = ", ".join(_title(name) for name in HEADERS if name not in headers)
        raise BadCoordinates(f"Kafka coordinates need all three headers {_all()}; missing: {missing}.")
    topic = headers[TOPIC_HEADER]
    if not _TOPIC.fullmatch(topic):
        raise BadCoordinates(
            f"{_title(TOPIC_HEADER)} must be a Kafka topic name (1 to 249 of A-Z a-z 0-9 . _ -), "
            f"not {topic!r}."
        )
    return Coordinates(
        topic, _number(headers, PARTITION_HEADER, 2**31 - 1), _number(headers, OFFSET_HEADER, _MAX)
    )


def _number(headers: Mapping[str, str], name: str, largest: int) -> int:
    text = headers[name]
    if not _NUMBER.fullmatch(text) or int(text) > largest:
        raise BadCoordinates(f"{_title(name)} must be a whole number from 0 to {largest}, not {text!r}.")
    return int(text)


def _title(name: str) -> str:
    return "-".join(part.capitalize() for part in name.split("-"))


def _all() -> str:
    return ", ".join(_title(name) for name in HEADERS)
