"""The envelope: an event's raw bytes exactly as received, plus where it came from."""

from dataclasses import field
from datetime import datetime
from typing import Any

from sigma_aetl.core.ids import SourceIdentity, key_identity, raw_identity
from sigma_aetl.core.value import value


@value
class Truncation:
    """What is known of an arrival too large to keep whole, when an envelope holds only its first bytes."""

    size: int
    """The whole arrival's size in bytes."""
    sha256: str
    """The SHA-256 of the whole arrival (its source read it all, keeping only the first bytes)."""


@value
class Envelope:
    """One arrival. Built at the edge (HTTP, Kafka, file) and never changed afterwards."""

    raw: bytes
    contract: str | None
    """The contract name the arrival addresses, exactly as given (None when it names none)."""
    version: str | None
    """The version the arrival addresses, exactly as given (None when it names none)."""
    received_at: datetime
    source: dict[str, Any] = field(default_factory=dict)
    """Transport metadata: ``kind`` (http, file, stdin, kafka) and its details."""
    idempotency_key: str | None = None
    """The producer's name for the arrival, exactly as sent (one key names a whole batch)."""
    batch_index: int | None = None
    """The event's place in a keyed batch, which the key alone does not tell apart (None: not a batch)."""
    transport_identity: SourceIdentity | None = None
    """A transport's own unique coordinates, e.g. ``("kafka", topic, partition, offset)``: they name one
    arrival for good (a Kafka offset never holds other bytes), so they alone identify it."""
    location: SourceIdentity | None = None
    """Where a source that can be rewritten holds the arrival, e.g. ``("file", path, line)``: a place, not
    an arrival (a file may be written again under the same name), so the bytes are part of the identity."""
    truncated: Truncation | None = None
    """Set when ``raw`` is only the first bytes of the arrival; it is then too large to judge."""

    @property
    def contract_ref(self) -> str:
        """The contract as addressed: ``shipment@1``, or ``?`` parts where nothing was named."""
        return f"{self.contract or '?'}@{self.version or '?'}"

    def source_identity(self) -> SourceIdentity:
        """What makes this arrival unique: the producer's key, else transport coordinates, else the bytes,
        at their location when the source gives one.

        The bytes are those of the whole arrival, even when only their first part is kept.
        """
        if self.idempotency_key is not None:
            return key_identity(self.idempotency_key, self.batch_index)
        if self.transport_identity is not None:
            return self.transport_identity
        content = raw_identity(self.raw) if self.truncated is None else ("raw", self.truncated.sha256)
        return content if self.location is None else (*self.location, *content)
