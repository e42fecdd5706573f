"""The pipeline: the one object behind every face (HTTP, CLI, Kafka).

route → validate → build record → store, for a batch of envelopes at a time. The store's unique ids make a
retry or a replay a no-op; an identity already stored with other content becomes an ``identity_conflict``
failure, never an overwrite and never a silent drop.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, Field

from sigma_aetl.contracts.model import Contract
from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core.decision import Decision, FieldError, Status
from sigma_aetl.core.envelope import Envelope
from sigma_aetl.core.jsonparse import Limits
from sigma_aetl.core.records import AcceptedRecord, FailureRecord, StoredRecord, build_record, conflict_record
from sigma_aetl.core.taxonomy import RootCause, Stage
from sigma_aetl.core.validator import DEFAULT_LIMITS, failed, validate
from sigma_aetl.stores.base import Store, WriteReport


class Outcome(BaseModel):
    """What happened to one event: its decision and where it is stored."""

    status: Status = Field(description="`PASSED` (stored as a record) or `FAILED` (stored as a failure).")
    contract_ref: str = Field(description="The contract as addressed.", examples=["shipment@1"])
    record_id: str | None = Field(default=None, description="PASSED: the accepted record's id.")
    failure_id: str | None = Field(default=None, description="FAILED: the failure record's id.")
    duplicate: bool = Field(
        description="True when the same event was already stored; nothing new was written."
    )
    root_cause: RootCause | None = None
    stage: Stage | None = None
    errors: tuple[FieldError, ...] = ()


@dataclass(frozen=True, slots=True)
class _Item:
    envelope: Envelope
    contract: Contract | None
    record: StoredRecord


class Pipeline:
    """Routes, validates and stores envelopes, one batch at a time."""

    def __init__(self, registry: Registry, store: Store, limits: Limits = DEFAULT_LIMITS) -> None:
        self.registry = registry
        self.store = store
        self.limits = limits

    def decide(self, envelope: Envelope) -> tuple[Decision, Contract | None]:
        """Route and validate one envelope; pure, no storage."""
        routed = self.registry.route(envelope.contract, envelope.version)
        if isinstance(routed, FieldError):
            return failed([routed]), None
        return validate(routed, envelope.raw, self.limits), routed

    def process(self, envelopes: Sequence[Envelope]) -> list[Outcome]:
        """Decide and durably store a batch; the outcomes are in the order of ``envelopes``."""
        items = [self._item(envelope) for envelope in envelopes]
        items = self._resolve_in_batch(items)
        report = self.store.write(*_split(items))
        conflicts = {
            index: conflict_record(item.envelope, item.record, _identity(item.contract))
            for index, item in enumerate(items)
            if isinstance(item.record, AcceptedRecord)
            and report.existing_records.get(item.record.record_id, item.record.content_hash)
            != item.record.content_hash
        }
        if conflicts:
            _merge(report, self.store.write([], list(conflicts.values())))
            for index, record in conflicts.items():
                items[index] = _Item(items[index].envelope, items[index].contract, record)
        return [_outcome(item.record, report) for item in items]

    def _item(self, envelope: Envelope) -> _Item:
        decision, contract = self.decide(envelope)
        return _Item(envelope, contract, build_record(envelope, decision, contract))

    @staticmethod
    def _resolve_in_batch(items: list[_Item]) -> list[_Item]:
        """Within one batch, a second content for an identity is a conflict with the first."""
        first: dict[str, AcceptedRecord] = {}
        out = []
        for item in items:
            record = item.record
            if isinstance(record, AcceptedRecord):
                seen = first.setdefault(record.record_id, record)
                if seen.content_hash != record.content_hash:
                    conflict = conflict_record(item.envelope, record, _identity(item.contract))
                    out.append(_Item(item.envelope, item.contract, conflict))
                    continue
            out.append(item)
        return out


def _identity(contract: Contract | None) -> tuple[str, ...]:
    return contract.identity if contract else ()


def _split(items: list[_Item]) -> tuple[list[AcceptedRecord], list[FailureRecord]]:
    records = [item.record for item in items if isinstance(item.record, AcceptedRecord)]
    failures = [item.record for item in items if isinstance(item.record, FailureRecord)]
    return records, failures


def _merge(report: WriteReport, more: WriteReport) -> None:
    report.new_failures |= more.new_failures
    report.existing_failures |= more.existing_failures


def _outcome(record: StoredRecord, report: WriteReport) -> Outcome:
    if isinstance(record, AcceptedRecord):
        return Outcome(
            status="PASSED",
            contract_ref=f"{record.contract}@{record.version}",
            record_id=record.record_id,
            duplicate=record.record_id in report.existing_records,
        )
    return Outcome(
        status="FAILED",
        contract_ref=record.contract_ref,
        failure_id=record.failure_id,
        duplicate=record.failure_id in report.existing_failures,
        root_cause=record.root_cause,
        stage=record.stage,
        errors=record.errors,
    )
