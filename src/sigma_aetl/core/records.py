"""Stored records: an accepted record or a failure record, built from an envelope and its decision.

Value types (:mod:`sigma_aetl.core.value`; one is built per event on the hot path):
:mod:`sigma_aetl.core.serial` writes them as JSON and reads them back, and their ``Field`` annotations
document the API.
"""

import base64
import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from sigma_aetl.core import serial
from sigma_aetl.core.canonical import canonical_bytes, sha256_hex
from sigma_aetl.core.contract import Contract
from sigma_aetl.core.decision import Decision, FieldError
from sigma_aetl.core.envelope import Envelope
from sigma_aetl.core.ids import IdentityKind, failure_id, identity_kind, record_id
from sigma_aetl.core.taxonomy import RootCause, Stage
from sigma_aetl.core.value import value


@value
class RawPayload:
    """The bytes of an event exactly as received: text when valid UTF-8, base64 otherwise; in a list page,
    a payload over the inline limit is ``omitted`` (its size and hash kept, its bytes served by id)."""

    encoding: Annotated[
        Literal["utf-8", "base64", "omitted"],
        Field(
            description="How `text` holds the bytes; `omitted` only in a list page, for a payload over its "
            "inline limit: `text` is then the path that serves the bytes whole (`.../{id}/raw`)."
        ),
    ]
    text: Annotated[
        str, Field(description="The bytes, as UTF-8 text or base64 (or, omitted, where they are).")
    ]
    size: Annotated[int, Field(description="Number of bytes received.")]
    sha256: Annotated[str, Field(description="SHA-256 of the bytes kept in `text`.")]
    truncated: Annotated[
        bool,
        Field(description="True only when a request exceeded the hard body limit and a prefix was kept."),
    ] = False
    size_unknown: Annotated[
        bool,
        Field(
            description="True only for a body over the hard limit, sent without a Content-Length, that was "
            "still arriving when the gateway stopped reading it on: `size` is then only the bytes kept."
        ),
    ] = False

    @classmethod
    def of(
        cls, raw: bytes, *, size: int | None = None, truncated: bool = False, size_unknown: bool = False
    ) -> "RawPayload":
        """Wrap ``raw``; ``size`` is the full size when only a prefix is kept (unless ``size_unknown``)."""
        try:
            encoding: Literal["utf-8", "base64"] = "utf-8"
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            encoding, text = "base64", base64.b64encode(raw).decode("ascii")
        whole = len(raw) if size is None else size
        return cls(encoding, text, whole, sha256_hex(raw), truncated, size_unknown)

    def omitted(self, where: str = "") -> "RawPayload":
        """This payload without its bytes, saying ``where`` they are served (size, hash, truncation kept)."""
        return dataclasses.replace(self, encoding="omitted", text=where)

    def to_bytes(self) -> bytes:
        """The bytes exactly as received; raises ValueError for an omitted payload (it holds none)."""
        if self.encoding == "omitted":
            raise ValueError("an omitted payload holds no bytes: read the record by its id")
        if self.encoding == "base64":
            return base64.b64decode(self.text)
        return self.text.encode("utf-8")


@value
class AcceptedRecord:
    """A valid event, canonicalised, stored once under its deterministic ``record_id``."""

    record_id: Annotated[str, Field(description="Deterministic id: contract, version and identity fields.")]
    contract: Annotated[str, Field(examples=["shipment"])]
    version: Annotated[int, Field(examples=[1])]
    fingerprint: Annotated[str, Field(description="Fingerprint of the contract version that accepted it.")]
    data: Annotated[
        dict[str, Any], Field(description="The canonical record: values exactly as sent, keys sorted.")
    ]
    content_hash: Annotated[
        str, Field(description="SHA-256 of the canonical data; tells a duplicate from a conflict.")
    ]
    raw: Annotated[RawPayload, Field(description="The event's bytes exactly as received.")]
    received_at: Annotated[datetime, Field(description="When the gateway received the event (UTC).")]
    source: Annotated[dict[str, Any], Field(description="Transport metadata of the first arrival.")]


MAX_LATEST = 10
"""How many of a failure's latest arrivals its occurrences keep."""


@value(kw_only=True)
class Arrival:
    """One arrival of a failing event: when, and the transport metadata it came with."""

    received_at: Annotated[datetime, Field(description="When the gateway received it (UTC).")]
    source: Annotated[dict[str, Any], Field(description="Its transport metadata, as `source` records it.")]


@value(kw_only=True)
class Occurrences:
    """How often a failure arrived. Kept by the store beside the record, never inside it: the record stays
    as first written. Only a failure identified by its bytes (`identified_by` = `raw`) arrives more than
    once; one identified by a key or by transport coordinates is the same arrival each time it comes back."""

    count: Annotated[int, Field(description="Arrivals of this failure, the first included.", ge=1)]
    first_seen: Annotated[datetime, Field(description="The earliest arrival's `received_at`.")]
    last_seen: Annotated[datetime, Field(description="The latest arrival's `received_at`.")]
    latest: Annotated[
        tuple[Arrival, ...],
        Field(
            description=f"The latest arrivals, at most {MAX_LATEST}, oldest first (the first arrival too, "
            "while it is among them)."
        ),
    ]


@value(kw_only=True)
class FailureRecord:
    """An invalid event, kept whole: raw bytes, every error, root cause, contract and transport metadata."""

    failure_id: Annotated[
        str, Field(description="Deterministic id: the contract as addressed and the source identity.")
    ]
    contract_ref: Annotated[
        str, Field(description="The contract as the event addressed it.", examples=["shipment@1"])
    ]
    contract: Annotated[str | None, Field(description="Contract name, when routing succeeded.")] = None
    version: Annotated[int | None, Field(description="Contract version, when routing succeeded.")] = None
    fingerprint: Annotated[str | None, Field(description="Contract fingerprint, when routing succeeded.")] = (
        None
    )
    root_cause: Annotated[RootCause, Field(description="The primary root cause.")]
    stage: Annotated[Stage, Field(description="The stage of the primary root cause.")]
    errors: Annotated[tuple[FieldError, ...], Field(description="Every error found.")]
    conflicts_with: Annotated[
        str | None,
        Field(description="identity_conflict only: the record_id already stored with other content."),
    ] = None
    raw: Annotated[RawPayload, Field(description="The event's bytes exactly as received.")]
    received_at: Annotated[datetime, Field(description="When the gateway received the event (UTC).")]
    source: Annotated[dict[str, Any], Field(description="Transport metadata.")]
    identified_by: Annotated[
        IdentityKind | None,
        Field(
            description="What `failure_id` derives from: the producer's `key` (Idempotency-Key), `transport` "
            "coordinates (Kafka topic/partition/offset), or the `raw` bytes. Only a `raw` failure counts "
            "each arrival in `occurrences`. Null for records stored before it was recorded."
        ),
    ] = None
    occurrences: Annotated[
        Occurrences | None,
        Field(description="How often it arrived, as the store counts it beside the record (as read)."),
    ] = dataclasses.field(default=None, compare=False)  # a tally beside the decision, not part of it

    @property
    def fields(self) -> list[str]:
        """The distinct field paths its errors name (the whole payload is the empty path)."""
        return sorted({error.path for error in self.errors})

    @property
    def counts_arrivals(self) -> bool:
        """Whether each write of it is a new arrival: only when its id derives from its bytes."""
        return self.identified_by == "raw"

    def first_arrival(self) -> Arrival:
        """The arrival the record itself describes."""
        return Arrival(received_at=self.received_at, source=self.source)

    def with_occurrences(
        self,
        count: int = 1,
        first_seen: datetime | None = None,
        last_seen: datetime | None = None,
        latest: tuple[Arrival, ...] | None = None,
    ) -> "FailureRecord":
        """This record as read, with its occurrences; what a store did not keep defaults to this record's
        own arrival (a failure seen once, or stored before occurrences were kept)."""
        received = self.received_at
        occurrences = Occurrences(
            count=count,
            first_seen=received if first_seen is None else min(first_seen, received),
            last_seen=received if last_seen is None else max(last_seen, received),
            latest=(self.first_arrival(),) if latest is None else latest,
        )
        return dataclasses.replace(self, occurrences=occurrences)


_NO_OCCURRENCES = b',"occurrences":null}'


def written_json(failure: FailureRecord) -> bytes:
    """The JSON a store keeps of a failure: the record as first written, without ``occurrences`` (the store
    keeps those beside it; :meth:`FailureRecord.with_occurrences` puts them back when it is read)."""
    if failure.occurrences is not None:
        failure = dataclasses.replace(failure, occurrences=None)
    written = serial.dumps(failure)
    # `occurrences` is the last field, so its null closes the object: cut it off rather than build a dict
    assert written.endswith(_NO_OCCURRENCES), "occurrences must stay FailureRecord's last field"
    return written[: -len(_NO_OCCURRENCES)] + b"}"


StoredRecord = AcceptedRecord | FailureRecord


def build_record(envelope: Envelope, decision: Decision, contract: Contract | None) -> StoredRecord:
    """The record to store for ``envelope`` given its ``decision``."""
    if decision.passed and contract is not None and decision.data is not None:
        return accepted_record(envelope, decision.data, contract)
    return failure_record(envelope, decision)


def accepted_record(
    envelope: Envelope, data: dict[str, Any], contract: Contract, raw: RawPayload | None = None
) -> AcceptedRecord:
    """An accepted record; its id comes from the contract's identity fields, or the whole data without any.
    ``raw`` is the envelope's payload when the caller already made it (else it is made here)."""
    identity = [data.get(field) for field in contract.identity] if contract.identity else [data]
    return AcceptedRecord(
        record_id(contract.name, contract.version, identity),
        contract.name,
        contract.version,
        contract.fingerprint,
        data,
        sha256_hex(canonical_bytes(data)),
        RawPayload.of(envelope.raw) if raw is None else raw,
        envelope.received_at,
        envelope.source,
    )


def failure_record(
    envelope: Envelope,
    decision: Decision,
    *,
    raw: RawPayload | None = None,
    conflicts_with: str | None = None,
) -> FailureRecord:
    """A failure record for a FAILED decision."""
    assert decision.root_cause is not None
    assert decision.stage is not None
    identity = envelope.source_identity()
    return FailureRecord(
        failure_id=failure_id(envelope.contract, envelope.version, identity),
        contract_ref=envelope.contract_ref,
        contract=decision.contract,
        version=decision.version,
        fingerprint=decision.fingerprint,
        root_cause=decision.root_cause,
        stage=decision.stage,
        errors=decision.errors,
        conflicts_with=conflicts_with,
        raw=raw or RawPayload.of(envelope.raw),
        received_at=envelope.received_at,
        source=envelope.source,
        identified_by=identity_kind(identity),
    )


def conflict_record(envelope: Envelope, record: AcceptedRecord, identity: tuple[str, ...]) -> FailureRecord:
    """The failure for a valid event whose identity is already stored with different content."""
    fields = ", ".join(f"{name}={record.data.get(name)!r}" for name in identity) or "the same content"
    message = (
        f"A record with {fields} is already stored ({record.record_id}) with different content; "
        "the stored record is kept and this event is not merged into it."
    )
    error = FieldError(
        path=identity[0] if len(identity) == 1 else "",
        loc=(identity[0],) if len(identity) == 1 else (),
        type="identity_conflict",
        root_cause=RootCause.IDENTITY_CONFLICT,
        stage=Stage.IDENTITY,
        message=message,
        constraint="one content per identity",
        explanation=message,
    )
    decision = Decision(
        status="FAILED",
        contract=record.contract,
        version=record.version,
        fingerprint=record.fingerprint,
        root_cause=RootCause.IDENTITY_CONFLICT,
        stage=Stage.IDENTITY,
        errors=(error,),
    )
    return failure_record(envelope, decision, raw=record.raw, conflicts_with=record.record_id)


@dataclass(frozen=True, slots=True)
class StoredPayload:
    """The raw bytes of one stored event, and which record holds them."""

    kind: Literal["record", "failure"]
    id: str
    """The ``record_id`` or ``failure_id``."""
    raw: RawPayload
