"""Replay: stored failures re-judged from their raw bytes against a target version (``sigma-aetl replay``,
``POST /v1/replays``). See docs/replay.md.

A failure that passes the target now becomes an accepted record of the target, built exactly as the
gateway builds one (:func:`~sigma_aetl.core.records.accepted_record`; its ``received_at`` and ``source``
are the failure's), written with its lineage, and the failure gets a resolution: both kept apart from the
records they link (:meth:`~sigma_aetl.stores.base.Store.write_replayed`). A failure that fails again stays
where it is, untouched; the run notes its new decision. Nothing is repaired, and nothing is dropped.

Replay ids are per run (``rpl_`` + start time + random): a run is an event with its own summary. What
makes a replay idempotent is not its id but the record ids, which are deterministic (contract, version,
identity fields): the same replay again finds every record stored with the same content (a duplicate,
nothing written), and lineage (one per record) and resolutions (one per failure and record) are unique
keys. Two runs at once write each record once; a run killed mid-way and run again writes the rest.

A record id stored already with other content is an identity conflict, stored as a failure of the target
like any other, identified by the replayed failure (``("replay", target, failure id)``), so a rerun
stores it once. Failures a replay stored (``source.kind`` = ``replay``) are never selected again, and
failures stored truncated cannot be judged: they are counted ``not_replayable``.
"""

import secrets
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from pydantic import ConfigDict, Field

from sigma_aetl.contracts.lock import ReleaseState
from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core.classes import class_id_of
from sigma_aetl.core.contract import Contract
from sigma_aetl.core.envelope import Envelope
from sigma_aetl.core.jsonparse import Limits
from sigma_aetl.core.records import AcceptedRecord, FailureRecord, accepted_record, conflict_record
from sigma_aetl.core.validator import DEFAULT_LIMITS, validate
from sigma_aetl.errors import ContractNotFound, ReplayRefused, SigmaError
from sigma_aetl.stores.base import (
    FailureQuery,
    Lineage,
    Replayed,
    ReplayRun,
    ReplaySelection,
    ReplaySummary,
    ReplayWrite,
    Store,
)

BATCH_SIZE = 500
"""Failures read, judged and written at a time (one transaction each in SQLite)."""
REPLAY_SOURCE = "replay"
"""``source.kind`` of the failures a replay stores (identity conflicts): never selected by a replay."""

Clock = Callable[[], datetime]
Progress = Callable[[ReplayRun], None]


class ReplayStopped(SigmaError):
    """A replay was asked to stop before its end; what it wrote is complete, batch by batch."""


class ReplayRequest(ReplaySelection):
    """A replay to run: the target version, which failures, and how."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    to: str = Field(description="The target version, NAME@VERSION.", examples=["shipment@2"], max_length=300)
    allow_draft: bool = Field(default=False, description="Replay into a draft (unreleased) version too.")
    dry_run: bool = Field(default=False, description="Judge and count; write no record, lineage, resolution.")

    @property
    def selection(self) -> ReplaySelection:
        """The failure filters alone."""
        return ReplaySelection.model_validate(self.model_dump(include=set(ReplaySelection.model_fields)))


def target_of(registry: Registry, ref: str, *, allow_draft: bool) -> Contract:
    """The version ``ref`` names, if a replay may write into it; raises ReplayRefused otherwise."""
    try:
        contract = registry.require(ref)
    except ContractNotFound as exc:
        raise ReplayRefused(f"cannot replay into {ref}: {exc}") from None
    state = registry.state(contract)
    if state is ReleaseState.MODIFIED:
        raise ReplayRefused(f"cannot replay into {contract.ref}: it was edited since it was released")
    if state is ReleaseState.DRAFT and not allow_draft:
        raise ReplayRefused(
            f"cannot replay into {contract.ref}: it is a draft. Release it first "
            f"(sigma-aetl contracts lock {contract.ref}), or allow a draft (--allow-draft)"
        )
    return contract


def new_replay_id(now: datetime) -> str:
    """``rpl_20260502T101500123456_9f3a1c0d``: sortable by start, unique by its random part."""
    return f"rpl_{now.astimezone(UTC):%Y%m%dT%H%M%S%f}_{secrets.token_hex(4)}"


def _now() -> datetime:
    return datetime.now(UTC)


class Replayer:
    """Runs one replay over one store: :meth:`start`, then :meth:`run`."""

    def __init__(
        self,
        store: Store,
        target: Contract,
        limits: Limits = DEFAULT_LIMITS,
        *,
        batch_size: int = BATCH_SIZE,
        clock: Clock = _now,
    ) -> None:
        self.store = store
        self.target = target
        self.limits = limits
        self.batch_size = batch_size
        self.clock = clock
        self._predicted: dict[str, str] = {}  # a dry run's records, as if written: id → content hash

    def start(self, request: ReplayRequest, replay_id: str | None = None) -> ReplayRun:
        """The run, state ``running``, with how many failures the filters match now (nothing stored)."""
        now = self.clock()
        filters = request.selection.model_dump(exclude={"class_id"})
        total = self.store.query_failures(FailureQuery(**filters, limit=1)).total
        return ReplayRun(
            replay_id=replay_id or new_replay_id(now),
            target=self.target.ref,
            target_fingerprint=self.target.fingerprint,
            selection=request.selection,
            allow_draft=request.allow_draft,
            dry_run=request.dry_run,
            state="running",
            total=total,
            progress=0,
            summary=ReplaySummary(),
            started_at=now,
        )

    def run(
        self,
        run: ReplayRun,
        *,
        keep: bool = True,
        progress: Progress | None = None,
        stop: Callable[[], bool] = lambda: False,
    ) -> ReplayRun:
        """Replay every selected failure, batch by batch; with ``keep``, the run is stored as it starts,
        after every batch, and as it ends. Returns it ``done``. An error (a StoreError, or ReplayStopped
        when ``stop()`` turns true between two batches) ends it ``failed``, stored so when the store still
        answers, and is raised: the same replay again finishes the work."""
        save = self._saving(keep)
        save(run)
        try:
            for batch in self.store.iter_failures(run.selection, batch_size=self.batch_size):
                if stop():
                    raise ReplayStopped("stopped before the end (the gateway shut down): run it again")
                run.progress += len(batch)
                self._batch(run, batch)
                save(run)
                if progress is not None:
                    progress(run)
        except BaseException as exc:  # Ctrl-C too: the run says it ended, and how far it got
            ended = {"state": "failed", "error": str(exc) or type(exc).__name__, "finished_at": self.clock()}
            failed = run.model_copy(update=ended)
            _try(save, failed)
            raise
        done = run.model_copy(update={"state": "done", "finished_at": self.clock()})
        save(done)
        return done

    def _saving(self, keep: bool) -> Progress:
        """Store a run, stamped with when (its ``updated_at``: a reader tells a dead run by it)."""
        if not keep:
            return _ignore

        def save(run: ReplayRun) -> None:
            run.updated_at = self.clock()
            self.store.save_replay(run)

        return save

    def _batch(self, run: ReplayRun, failures: Iterable[FailureRecord]) -> None:
        """Judge a batch, store what passes, and count every outcome into ``run.summary``."""
        summary, items = run.summary, []
        for failure in failures:
            if not self._selected(run.selection, failure):
                continue
            summary.selected += 1
            item = self._judge(run, failure)
            if item is not None:
                items.append(item)
        written = self._predict(items) if run.dry_run else self.store.write_replayed(items)
        conflicts = self._count(summary, items, written)
        if conflicts and not run.dry_run:
            self.store.write([], [self._conflict(run, item) for item in conflicts])

    def _selected(self, selection: ReplaySelection, failure: FailureRecord) -> bool:
        if failure.source.get("kind") == REPLAY_SOURCE:
            return False
        return selection.class_id is None or class_id_of(failure) == selection.class_id

    def _judge(self, run: ReplayRun, failure: FailureRecord) -> Replayed | None:
        """The record ``failure`` makes now, or None (counted): stored truncated, or failing again."""
        summary = run.summary
        if failure.raw.truncated:
            summary.not_replayable += 1
            return None
        decision = validate(self.target, failure.raw.to_bytes(), self.limits)
        if not decision.passed or decision.data is None:
            summary.still_failing += 1
            summary.still_failing_errors += len(decision.errors)
            cause = decision.root_cause.value if decision.root_cause else "unknown"
            summary.still_failing_by_root_cause[cause] = summary.still_failing_by_root_cause.get(cause, 0) + 1
            return None
        summary.would_pass += 1
        record = accepted_record(self._envelope(failure), decision.data, self.target)
        lineage = Lineage(
            record_id=record.record_id,
            replayed_from=failure.failure_id,
            replay_id=run.replay_id,
            fingerprint=self.target.fingerprint,
            replayed_at=self.clock(),
        )
        return Replayed(record, lineage)

    def _envelope(self, failure: FailureRecord, source: dict[str, Any] | None = None) -> Envelope:
        """The failure's arrival, addressed to the target."""
        return Envelope(
            failure.raw.to_bytes(),
            self.target.name,
            str(self.target.version),
            failure.received_at,
            failure.source if source is None else source,
        )

    def _predict(self, items: list[Replayed]) -> ReplayWrite:
        """What :meth:`Store.write_replayed` would report, read from the store (a dry run writes nothing)."""
        predicted = ReplayWrite()
        for item in items:
            record_id = item.record.record_id
            if record_id in self._predicted or record_id in predicted.existing_records:
                continue
            stored = self.store.get_record(record_id)
            if stored is not None:
                predicted.existing_records[record_id] = stored.content_hash
            else:
                predicted.new_records.add(record_id)
                self._predicted[record_id] = item.record.content_hash
        return predicted

    def _count(self, summary: ReplaySummary, items: list[Replayed], written: ReplayWrite) -> list[Replayed]:
        """Count each passing item as replayed, duplicate or conflict; return the conflicts."""
        kept = {**self._predicted, **written.existing_records}
        first: set[str] = set()
        conflicts = []
        for item in items:
            record: AcceptedRecord = item.record
            if record.record_id in written.new_records and record.record_id not in first:
                first.add(record.record_id)
                kept.setdefault(record.record_id, record.content_hash)
                summary.replayed += 1
            elif kept.get(record.record_id, record.content_hash) == record.content_hash:
                summary.duplicates += 1
            else:
                summary.conflicts += 1
                conflicts.append(item)
        return conflicts

    def _conflict(self, run: ReplayRun, item: Replayed) -> FailureRecord:
        """The identity conflict of a replayed failure, identified by it (a rerun stores it once)."""
        failure_id = item.lineage.replayed_from
        source = {"kind": REPLAY_SOURCE, "replay_id": run.replay_id, "replayed_from": failure_id}
        envelope = Envelope(
            item.record.raw.to_bytes(),
            self.target.name,
            str(self.target.version),
            item.record.received_at,
            source,
            transport_identity=(REPLAY_SOURCE, self.target.ref, failure_id),
        )
        return conflict_record(envelope, item.record, self.target.identity)


def _ignore(run: ReplayRun) -> None:
    """Keep nothing (a dry run from the command line)."""


def _try(save: Progress, run: ReplayRun) -> None:
    """Store the failed run if the store still answers; the error that ended it is what matters."""
    try:
        save(run)
    except Exception:  # noqa: BLE001 - the original error is raised by the caller
        return
