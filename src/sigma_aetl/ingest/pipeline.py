"""The pipeline: the one object behind every face (HTTP, CLI, Kafka).

route → validate → build record → store, for a batch of envelopes at a time. The store's unique ids make a
retry or a replay a no-op; an identity already stored with other content becomes an ``identity_conflict``
failure, and an idempotency key already naming other content stores the event apart
(:mod:`sigma_aetl.core.keyreuse`): never an overwrite and never a silent drop.
"""

import time
from collections.abc import Generator, Iterable, Sequence
from contextlib import suppress
from dataclasses import replace
from typing import TypeGuard

from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core.canonical import sha256_hex
from sigma_aetl.core.compiled import record_of
from sigma_aetl.core.contract import Contract
from sigma_aetl.core.decision import Decision, FieldError
from sigma_aetl.core.envelope import Envelope
from sigma_aetl.core.jsonparse import Limits, transport_error
from sigma_aetl.core.keyreuse import content_of, reused_key_record
from sigma_aetl.core.records import (
    AcceptedRecord,
    FailureRecord,
    RawPayload,
    StoredRecord,
    build_record,
    conflict_record,
    failure_record,
)
from sigma_aetl.core.taxonomy import RootCause
from sigma_aetl.core.validator import DEFAULT_LIMITS, failed, validate
from sigma_aetl.core.value import value
from sigma_aetl.errors import StoreError
from sigma_aetl.ingest.observer import BatchObserver
from sigma_aetl.ingest.outcome import Outcome
from sigma_aetl.settings import TRANSACTION_SIZE
from sigma_aetl.stores.base import PendingWrite, StagedWrite, Store, WriteReport


@value
class _Item:
    envelope: Envelope
    contract: Contract | None
    record: StoredRecord


@value
class Prepared:
    """A batch decided and turned into records, not yet stored."""

    items: list[_Item]
    first: dict[str, AcceptedRecord]
    """Each accepted record id's first arrival in the batch: what the batch writes."""
    failures: list[FailureRecord]
    write: StagedWrite
    """The batch's write, encoded for the store (its rows): built here, beside the write before it."""


class Pipeline:
    """Routes, validates and stores envelopes, one batch at a time."""

    def __init__(
        self,
        registry: Registry,
        store: Store,
        limits: Limits = DEFAULT_LIMITS,
        *,
        transaction_size: int = TRANSACTION_SIZE,
        observer: BatchObserver | None = None,
    ) -> None:
        self.registry = registry
        self.store = store
        self.limits = limits
        self.transaction_size = transaction_size
        self.observer = observer
        """Told about each batch (metrics, ``observer.py``); None: nothing is measured."""
        self._write_started = 0.0  # the store takes one write at a time, so one start time is enough

    def decide(
        self, envelope: Envelope, registry: Registry | None = None
    ) -> tuple[Decision, Contract | None]:
        """Route (by ``registry``, else the pipeline's) and validate one envelope; pure, no storage."""
        routed = (self.registry if registry is None else registry).route(envelope.contract, envelope.version)
        if isinstance(routed, FieldError):
            return failed([routed]), None
        return validate(routed, envelope.raw, self.limits), routed

    def process(self, envelopes: Sequence[Envelope]) -> list[Outcome]:
        """Decide and durably store a batch; the outcomes are in the order of ``envelopes``.

        A batch larger than ``transaction_size`` is stored as consecutive transactions of that size, through
        :meth:`process_stream`, so deciding one part overlaps storing the one before; the outcomes are
        those of the whole batch in one go (a second copy is a duplicate either way).

        The whole batch is judged by one registry, the one the pipeline held when the call began, even if
        a contract reload swaps :attr:`registry` meanwhile.
        """
        registry = self.registry
        if len(envelopes) > self.transaction_size:
            parts = (
                envelopes[i : i + self.transaction_size]
                for i in range(0, len(envelopes), self.transaction_size)
            )
            return [outcome for outcomes in self.process_stream(parts, registry) for outcome in outcomes]
        prepared = self.prepare(envelopes, registry)
        return self.finish(prepared, self.submit(prepared))

    def process_stream(
        self, batches: Iterable[Sequence[Envelope]], registry: Registry | None = None
    ) -> Generator[list[Outcome]]:
        """:meth:`process` each batch in order, deciding the next batch while the store writes this one.

        Each batch's outcomes are yielded once it is durably stored, before the next batch's write starts,
        so the rules across batches (a duplicate, a conflict) are exactly those of one batch after another.
        Each batch is judged by ``registry`` if given, else by the pipeline's registry as it is then.
        """
        pending: tuple[Prepared, PendingWrite] | None = None
        try:
            for batch in batches:
                prepared = self.prepare(batch, registry)
                if pending is not None:
                    done, pending = pending, None
                    yield self.finish(*done)
                pending = (prepared, self.submit(prepared))
            if pending is not None:
                done, pending = pending, None
                yield self.finish(*done)
        finally:
            if pending is not None:  # reading or deciding the next batch failed while one was being written:
                with suppress(StoreError):  # let that write land (or fail) so the store is free again
                    pending[1].result()

    def prepare(self, envelopes: Sequence[Envelope], registry: Registry | None = None) -> Prepared:
        """Route, validate and build the records of a batch, all by one registry (``registry``, else the
        pipeline's as it is now), and encode its write for the store (:meth:`Store.stage`); pure, no
        storage, so it may run while the write before it is in flight (:meth:`process_stream`)."""
        started = time.perf_counter()
        judge = self.registry if registry is None else registry  # read once: a reload swaps the attribute
        items = [self._item(envelope, judge) for envelope in envelopes]
        records, failures = _split(items)
        first: dict[str, AcceptedRecord] = {}
        for record in records:  # the earliest wins, and records keep their arrival order (the stream's)
            first.setdefault(record.record_id, record)
        if self.observer is not None:
            self.observer.decided(len(items), time.perf_counter() - started)
        return Prepared(items, first, failures, self.store.stage(list(first.values()), failures))

    def submit(self, prepared: Prepared) -> PendingWrite:
        """Start storing a prepared batch (see :meth:`Store.submit`)."""
        self._write_started = time.perf_counter()
        try:
            return self.store.submit(prepared.write)
        except StoreError:
            self._write_failed(len(prepared.items))
            raise

    def finish(self, prepared: Prepared, pending: PendingWrite) -> list[Outcome]:
        """Wait for the batch's write, store its identity conflicts, and say what happened to each event."""
        items, report = prepared.items, self._landed(pending, len(prepared.items))
        # The content an identity keeps: what was already stored, else the batch's first arrival.
        kept = {record_id: record.content_hash for record_id, record in prepared.first.items()}
        kept.update(report.existing_records)
        conflicts = {
            index: conflict_record(item.envelope, item.record, _identity(item.contract))
            for index, item in enumerate(items)
            if isinstance(item.record, AcceptedRecord)
            and kept[item.record.record_id] != item.record.content_hash
        }
        self._store_apart(items, report, conflicts)
        self._store_apart(items, report, self._reused_keys(items, report))
        seen: set[str] = set()  # a second copy within the batch is a duplicate of the first
        outcomes = [_outcome(item.record, report, seen) for item in items]
        self._observe(items, outcomes)
        return outcomes

    def _landed(self, pending: PendingWrite, events: int) -> WriteReport:
        """``pending.result()``, its time (since :meth:`submit`) and failure told to the observer."""
        try:
            report = pending.result()
        except StoreError:
            self._write_failed(events)
            raise
        if self.observer is not None:
            self.observer.written(events, time.perf_counter() - self._write_started)
        return report

    def _write_failed(self, events: int) -> None:
        if self.observer is not None:
            self.observer.write_failed(events)

    def _observe(self, items: Sequence[_Item], outcomes: Sequence[Outcome]) -> None:
        if self.observer is not None:
            self.observer.stored(self.registry, [item.record for item in items], outcomes)

    def _store_apart(self, items: list[_Item], report: WriteReport, apart: dict[int, FailureRecord]) -> None:
        """Write the failures that replace some items' records (conflicts), and put them in their place."""
        if apart:
            _merge(report, self.store.write([], list(apart.values())))
            for index, record in apart.items():
                items[index] = _Item(items[index].envelope, items[index].contract, record)

    def _reused_keys(self, items: Sequence[_Item], report: WriteReport) -> dict[int, FailureRecord]:
        """The keyed failures whose key already names other content, stored or earlier in the batch, each
        as the record that stores it apart (see :mod:`sigma_aetl.core.keyreuse`). Reads the store only for
        keyed failures it found stored already: a retry, or a reuse."""
        keyed = [(i, item.record) for i, item in enumerate(items) if _keyed_failure(item.record)]
        taken = {record.failure_id for _, record in keyed} & report.existing_failures
        stored = ((failure_id, self._stored_content(failure_id)) for failure_id in sorted(taken))
        kept = {failure_id: content for failure_id, content in stored if content is not None}
        apart: dict[int, FailureRecord] = {}
        for index, record in keyed:
            own = content_of(record.raw, self.limits)
            if kept.setdefault(record.failure_id, own) != own:
                apart[index] = reused_key_record(items[index].envelope, record, own, record.failure_id)
        return apart

    def _stored_content(self, failure_id: str) -> str | None:
        stored = self.store.get_failure(failure_id)
        return None if stored is None else content_of(stored.raw, self.limits)

    def process_oversized(self, envelope: Envelope, size: int | None, limit: int) -> Outcome:
        """Store a failure for a body over the hard request limit; ``envelope.raw`` holds only its prefix.

        The record says so (``raw.truncated``, the full ``raw.size``, or ``raw.size_unknown`` when the
        source could not learn it) instead of pretending to hold it all. A body read to its end
        (``envelope.truncated``) is identified by its whole bytes, as if it had been kept; one that was
        not, by its prefix and its size: either way a retried upload writes nothing new.
        """
        error = request_too_large(size, len(envelope.raw), limit)
        if envelope.truncated is None:
            identity = ("raw-prefix", sha256_hex(envelope.raw), "size_unknown" if size is None else str(size))
            envelope = replace(envelope, transport_identity=envelope.transport_identity or identity)
        record = self._truncated_record(envelope, size, error)
        items = [_Item(envelope, None, record)]
        try:
            report = self.store.write([], [record])
        except StoreError:
            self._write_failed(1)
            raise
        self._store_apart(items, report, self._reused_keys(items, report))
        outcome = _outcome(items[0].record, report)
        self._observe(items, [outcome])
        return outcome

    def _item(self, envelope: Envelope, registry: Registry) -> _Item:
        if envelope.truncated is not None:
            return _Item(envelope, None, self._too_large(envelope, envelope.truncated.size, registry))
        routed = registry.route(envelope.contract, envelope.version)
        if isinstance(routed, FieldError):
            return _Item(envelope, None, build_record(envelope, failed([routed]), None))
        return _Item(envelope, routed, record_of(routed, envelope, self.limits))  # compiled pass first

    def _too_large(self, envelope: Envelope, size: int, registry: Registry) -> FailureRecord:
        """The failure of an event its source read whole but kept only the first bytes of (a file line)."""
        error = payload_too_large(size, len(envelope.raw), self.limits.max_bytes)
        return self._truncated_record(envelope, size, error, registry)

    def _truncated_record(
        self, envelope: Envelope, size: int | None, error: FieldError, registry: Registry | None = None
    ) -> FailureRecord:
        """A failure record keeping only ``envelope.raw``, the first bytes of ``size`` (None: unknown);
        routing errors win."""
        routed = (self.registry if registry is None else registry).route(envelope.contract, envelope.version)
        decision = failed([routed] if isinstance(routed, FieldError) else [error], _contract_or_none(routed))
        raw = RawPayload.of(envelope.raw, size=size, truncated=True, size_unknown=size is None)
        return failure_record(envelope, decision, raw=raw)


def request_too_large(size: int | None, kept: int, limit: int) -> FieldError:
    """The error of a request body of ``size`` bytes (None: unknown) over the hard ``limit``, of which
    ``kept`` bytes are kept (``request_too_large``)."""
    whole = "of unknown size (still arriving when reading it on stopped)" if size is None else size
    return transport_error(
        RootCause.PAYLOAD_TOO_LARGE,
        "request_too_large",
        f"The request body is {whole}{'' if size is None else ' bytes'}; the limit is {limit} bytes. "
        f"Only the first {kept} bytes are kept.",
        constraint=f"size <= {limit} bytes",
    )


def payload_too_large(size: int, kept: int, limit: int) -> FieldError:
    """The error of an event of ``size`` bytes, read whole, over the event ``limit``, of which ``kept``
    bytes are kept (``payload_too_large``)."""
    return transport_error(
        RootCause.PAYLOAD_TOO_LARGE,
        "payload_too_large",
        f"The payload is {size} bytes; the limit is {limit} bytes. Only the first {kept} bytes are kept.",
        constraint=f"size <= {limit} bytes",
    )


def _keyed_failure(record: StoredRecord) -> TypeGuard[FailureRecord]:
    return isinstance(record, FailureRecord) and record.identified_by == "key"


def _contract_or_none(routed: Contract | FieldError) -> Contract | None:
    return None if isinstance(routed, FieldError) else routed


def _identity(contract: Contract | None) -> tuple[str, ...]:
    return contract.identity if contract else ()


def _split(items: list[_Item]) -> tuple[list[AcceptedRecord], list[FailureRecord]]:
    records = [item.record for item in items if isinstance(item.record, AcceptedRecord)]
    failures = [item.record for item in items if isinstance(item.record, FailureRecord)]
    return records, failures


def _merge(report: WriteReport, more: WriteReport) -> None:
    report.new_failures |= more.new_failures
    report.existing_failures |= more.existing_failures


def _outcome(record: StoredRecord, report: WriteReport, seen: set[str] | None = None) -> Outcome:
    seen = set() if seen is None else seen
    if isinstance(record, AcceptedRecord):
        duplicate = record.record_id in report.existing_records or record.record_id in seen
        seen.add(record.record_id)
        return Outcome(
            status="PASSED",
            contract_ref=f"{record.contract}@{record.version}",
            record_id=record.record_id,
            duplicate=duplicate,
        )
    duplicate = record.failure_id in report.existing_failures or record.failure_id in seen
    seen.add(record.failure_id)
    return Outcome(
        status="FAILED",
        contract_ref=record.contract_ref,
        failure_id=record.failure_id,
        duplicate=duplicate,
        root_cause=record.root_cause,
        stage=record.stage,
        errors=record.errors,
    )
