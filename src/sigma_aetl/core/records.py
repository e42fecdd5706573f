"""Stored records: an accepted record or a failure record, built from an envelope and its decision.

Value types (:mod:`sigma_aetl.core.value`; one is built per event on the hot path):
:mod:`sigma_aetl.core.serial` writes them as JSON and reads them back, and their ``Field`` annotations
document the API.
"""

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from sigma_aetl.core.canonical import canonical_bytes, sha256_hex
from sigma_aetl.core.contract import Contract
from sigma_aetl.core.decision import Decision, FieldError
from sigma_aetl.core.envelope import Envelope
from sigma_aetl.core.ids import failure_id, record_id
from sigma_aetl.core.taxonomy import RootCause, Stage
from sigma_aetl.core.value import value


@value
class RawPayload:
    """The bytes of an event exactly as received: text when valid UTF-8, base64 otherwise."""

    encoding: Annotated[Literal["utf-8", "base64"], Field(description="How `text` holds the bytes.")]
    text: Annotated[str, Field(description="The bytes, as UTF-8 text or base64.")]
    size: Annotated[int, Field(description="Number of bytes received.")]
    sha256: Annotated[str, Field(description="SHA-256 of the bytes kept in `text`.")]
    truncated: Annotated[
        bool,
        Field(description="True only when a request exceeded the hard body limit and a prefix was kept."),
    ] = False

    @classmethod
    def of(cls, raw: bytes, *, size: int | None = None, truncated: bool = False) -> "RawPayload":
        """Wrap ``raw``; ``size`` is the full size when only a prefix is kept."""
        try:
            encoding: Literal["utf-8", "base64"] = "utf-8"
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            encoding, text = "base64", base64.b64encode(raw).decode("ascii")
        return cls(encoding, text, len(raw) if size is None else size, sha256_hex(raw), truncated)

    def to_bytes(self) -> bytes:
        """The bytes exactly as received."""
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

    @property
    def fields(self) -> list[str]:
        """The distinct field paths its errors name (the whole payload is the empty path)."""
        return sorted({error.path for error in self.errors})


StoredRecord = AcceptedRecord | FailureRecord


def build_record(envelope: Envelope, decision: Decision, contract: Contract | None) -> StoredRecord:
    """The record to store for ``envelope`` given its ``decision``."""
    if decision.passed and contract is not None and decision.data is not None:
        return accepted_record(envelope, decision.data, contract)
    return failure_record(envelope, decision)


def accepted_record(envelope: Envelope, data: dict[str, Any], contract: Contract) -> AcceptedRecord:
    """An accepted record; its id comes from the contract's identity fields, or the whole data without any."""
    identity = [data.get(field) for field in contract.identity] if contract.identity else [data]
    return AcceptedRecord(
        record_id(contract.name, contract.version, identity),
        contract.name,
        contract.version,
        contract.fingerprint,
        data,
        sha256_hex(canonical_bytes(data)),
        RawPayload.of(envelope.raw),
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
    return FailureRecord(
        failure_id=failure_id(envelope.contract_ref, envelope.source_identity()),
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
