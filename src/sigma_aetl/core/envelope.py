"""The envelope: an event's raw bytes exactly as received, plus where it came from."""

from dataclasses import field
from datetime import datetime
from typing import Any

from sigma_aetl.core.ids import SourceIdentity, raw_identity
from sigma_aetl.core.value import value


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
    """Transport metadata: ``kind`` (http, file, kafka) and its details."""
    idempotency_key: str | None = None
    transport_identity: SourceIdentity | None = None
    """A transport's own unique coordinates, e.g. ``("kafka", topic, partition, offset)``."""

    @property
    def contract_ref(self) -> str:
        """The contract as addressed: ``shipment@1``, or ``?`` parts where nothing was named."""
        return f"{self.contract or '?'}@{self.version or '?'}"

    def source_identity(self) -> SourceIdentity:
        """What makes this arrival unique: the producer's key, else transport coordinates, else the bytes."""
        if self.idempotency_key is not None:
            return ("key", self.idempotency_key)
        if self.transport_identity is not None:
            return self.transport_identity
        return raw_identity(self.raw)
