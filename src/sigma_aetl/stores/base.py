"""The Store protocol every backend implements, and the query and report types it speaks.

A store is dumb on purpose: it writes what it is given, idempotently (a record whose id exists is
left untouched and reported as existing), and answers queries. Decisions live in the pipeline.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal, Protocol

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from sigma_aetl.core.advisories import Advisory, AdvisoryJob, AdvisoryTarget
from sigma_aetl.core.alerts import Alert
from sigma_aetl.core.analytics import (
    AnalyticsWindow,
    FailureAnalytics,
    FailureAnalyticsQuery,
    TrafficAnalytics,
)
from sigma_aetl.core.classes import FailureClass
from sigma_aetl.core.keys import ApiKey
from sigma_aetl.core.records import AcceptedRecord, FailureRecord, StoredPayload
from sigma_aetl.core.taxonomy import RootCause

MAX_PAGE = 1000
MAX_INTEGER = 2**63 - 1
"""Largest integer a query parameter takes: what SQLite and BSON hold (beyond it is 422, not an overflow)."""
MAX_CURSOR = 1024
"""Longest cursor a query accepts, in characters (the store's own are a few hundred at most)."""
PURGE_BATCH = 1000
"""Failures deleted per transaction (SQLite) or per delete (MongoDB) by a purge."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _in_utc(moment: datetime) -> datetime:
    """``moment`` in UTC (a naive one is taken as UTC); one whose UTC falls outside the calendar (year
    1 to 9999) is refused, so a query parameter at the edge is 422 rather than an overflow in a store."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("the instant is outside years 1 to 9999 in UTC") from None


Instant = Annotated[datetime, AfterValidator(_in_utc)]
"""A timestamp in a query: any RFC 3339 instant whose UTC is a valid date, held in UTC."""


def micros(moment: datetime) -> int:
    """A timestamp as integer microseconds since the epoch (UTC), the stored and indexed form."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    # Integer arithmetic: timestamp() is a float and would put about 1% of instants 1 µs early.
    return (moment - _EPOCH) // _MICROSECOND


def from_micros(value: int) -> datetime:
    """Integer microseconds since the epoch back to the UTC timestamp :func:`micros` made them of."""
    return _EPOCH + value * _MICROSECOND


class FailureFilter(BaseModel):
    """Which failure records: every filter is optional and they combine with AND."""

    model_config = ConfigDict(frozen=True)

    contract: str | None = Field(
        default=None,
        description="Name of the contract that judged the failure. Failures that were never routed to a "
        "contract (unknown contract or version) are found by their root cause instead.",
    )
    version: int | None = Field(
        default=None, ge=1, le=MAX_INTEGER, description="Version of the contract that judged the failure."
    )
    root_cause: RootCause | None = Field(default=None, description="Primary root cause.")
    field: str | None = Field(default=None, description="An error's field path, exactly (e.g. `weight_kg`).")
    since: Instant | None = Field(default=None, description="Received at or after (inclusive).")
    until: Instant | None = Field(default=None, description="Received before (exclusive).")


class FailureQuery(FailureFilter):
    """Filters and paging for failure records; every filter is optional and they combine with AND."""

    limit: int = Field(default=50, ge=1, le=MAX_PAGE)
    offset: int = Field(default=0, ge=0, le=MAX_INTEGER)


class FailurePurge(FailureFilter):
    """Which failure records a purge deletes: the failure filters, and how long since they last arrived."""

    last_seen_before: Instant | None = Field(
        default=None,
        description="Last arrived before (exclusive): `occurrences.last_seen`, which is `received_at` for a "
        "failure that arrived once. A failure still arriving is kept.",
    )

    def is_everything(self) -> bool:
        """True when no filter is set: every failure record matches."""
        return all(value is None for value in self.model_dump().values())


class PurgeReport(BaseModel):
    """What a purge deleted (or, in a dry run, would delete)."""

    deleted: int = Field(description="Failure records deleted, with their field index and occurrences.")
    by_root_cause: dict[str, int] = Field(description="The same, per primary root cause.")


@dataclass(frozen=True, slots=True)
class PageBudget:
    """What a list page may hold beyond its ``limit``: ``max_bytes`` of items (each measured as its JSON;
    the first item always comes, so paging advances) and raw payloads of at most ``max_inline_raw`` bytes
    inline (a larger one is listed omitted). None: no bound."""

    max_bytes: int | None = None
    max_inline_raw: int | None = None


UNBOUNDED = PageBudget()
"""Pages by count alone, every payload inline: the CLI and exports."""


class FailurePage(BaseModel):
    """One page of failures, newest first, with the total matching the filters."""

    items: list[FailureRecord]
    total: int
    limit: int
    offset: int
    next_offset: int | None = Field(
        default=None,
        description="The `offset` of the next page (the same filters and `limit`): set when failures follow "
        "this page, whether it ended at `limit` or was cut short by the byte limit; null at the end.",
    )


class RecordQuery(BaseModel):
    """Filters and a cursor for reading accepted records in the store's stream order (see docs/records.md).

    Every filter is optional and they combine with AND. ``cursor`` continues where an earlier page of the
    same filters ended; without one, reading starts at the beginning of the store.
    """

    model_config = ConfigDict(frozen=True)

    contract: str | None = Field(default=None, description="Name of the contract that accepted the record.")
    version: int | None = Field(
        default=None, ge=1, le=MAX_INTEGER, description="Version of the contract that accepted the record."
    )
    since: Instant | None = Field(default=None, description="Received at or after (inclusive).")
    until: Instant | None = Field(default=None, description="Received before (exclusive).")
    limit: int = Field(default=100, ge=1, le=MAX_PAGE, description="Most records on the page.")
    cursor: str | None = Field(
        default=None,
        max_length=MAX_CURSOR,
        description="A `next_cursor` or `resume_cursor` from an earlier page with the same filters.",
    )


class RecordPage(BaseModel):
    """One page of accepted records in stream order, and the cursors to continue from."""

    items: list[AcceptedRecord]
    limit: int
    next_cursor: str | None = Field(
        description="The next page's cursor; null when this page reached the end of what is stored now."
    )
    resume_cursor: str = Field(
        description="Where this page ended, always set: pass it later to read what was stored since "
        "(the same as `next_cursor` when there is one)."
    )


class Stats(BaseModel):
    """Counts of what is stored."""

    accepted_total: int
    failures_total: int = Field(description="Distinct failure records.")
    failure_occurrences_total: int = Field(
        description="Arrivals of those failures: a failure identified by its bytes counts each time it "
        "arrived (see `occurrences` on a failure record); any other counts once."
    )
    accepted_by_contract: dict[str, int] = Field(description="Accepted records per `name@version`.")
    failures_by_contract: dict[str, int] = Field(description="Failures per contract as addressed.")
    failures_by_root_cause: dict[str, int]
    failure_occurrences_by_contract: dict[str, int] = Field(
        description="Failure arrivals per contract as addressed."
    )
    failure_occurrences_by_root_cause: dict[str, int] = Field(description="Failure arrivals per root cause.")


class ClassQuery(BaseModel):
    """Filters and paging for failure classes (see docs/diagnostics.md); they combine with AND."""

    model_config = ConfigDict(frozen=True)

    contract: str | None = Field(default=None, description="Name of the contract that judged the failures.")
    version: int | None = Field(
        default=None, ge=1, le=MAX_INTEGER, description="Version of the contract that judged the failures."
    )
    root_cause: RootCause | None = Field(default=None, description="Primary root cause.")
    field: str | None = Field(
        default=None, description="A field path of the signature, indices as `[*]` (e.g. `items[*].sku`)."
    )
    producer: str | None = Field(
        default=None, description="A producer label, exactly (`key:key_…`, `client:10.0.0.7`, `topic:…`)."
    )
    since: Instant | None = Field(default=None, description="Last seen at or after (inclusive).")
    order: Literal["count", "last_seen"] = Field(
        default="count", description="Most failures first, or most recently seen first."
    )
    limit: int = Field(default=50, ge=1, le=MAX_PAGE)
    offset: int = Field(default=0, ge=0, le=MAX_INTEGER)


class ClassPage(BaseModel):
    """One page of failure classes in the query's order, with the total matching the filters."""

    items: list[FailureClass]
    total: int
    limit: int
    offset: int
    next_offset: int | None = Field(
        default=None, description="The `offset` of the next page (same filters); null at the end."
    )


class ProducerActivity(BaseModel):
    """What one producer had accepted under one contract version: how many records, first and last."""

    contract: str
    version: int
    producer: str = Field(description="A producer label, as failure classes count them.")
    accepted: int = Field(description="Accepted records from this producer.")
    first_accepted: datetime = Field(description="`received_at` of the first of them.")
    last_accepted: datetime = Field(description="`received_at` of the last of them.")


# -- Replays (docs/replay.md): failures re-judged against a target version, and lineage both ways. -------
# Lineage and resolutions are kept apart from the records they link (their tables or collections), so
# every stored record and failure stays byte for byte as first written.

ReplayState = Literal["running", "done", "failed"]


class ReplaySelection(FailureFilter):
    """Which failures a replay re-judges: the failure filters, and a failure class."""

    class_id: str | None = Field(
        default=None,
        max_length=64,
        description="A failure class id (`cls_…`, see docs/diagnostics.md): computed from each failure.",
    )


class ReplaySummary(BaseModel):
    """What a replay did with the failures it selected (in a dry run: what it would do)."""

    selected: int = Field(default=0, description="Failures selected and re-judged (or found truncated).")
    would_pass: int = Field(default=0, description="Of them, those that pass the target version now.")
    replayed: int = Field(default=0, description="Accepted records written by this run, each with lineage.")
    duplicates: int = Field(
        default=0, description="Would pass, but the record is stored already with the same content."
    )
    still_failing: int = Field(default=0, description="Fail the target version too: left where they are.")
    conflicts: int = Field(
        default=0, description="Would pass, but the identity is stored with other content: identity_conflict."
    )
    not_replayable: int = Field(default=0, description="Stored truncated (over the hard body limit).")
    still_failing_by_root_cause: dict[str, int] = Field(
        default_factory=dict, description="The new decision of those still failing, per primary root cause."
    )
    still_failing_errors: int = Field(default=0, description="Errors of the new decisions, in all.")


class ReplayRun(BaseModel):
    """One replay: what it targets and selects, where it stands, and what it did."""

    replay_id: str = Field(description="This run's id (`rpl_…`).")
    target: str = Field(examples=["shipment@2"])
    target_fingerprint: str
    selection: ReplaySelection
    allow_draft: bool = False
    dry_run: bool = False
    state: ReplayState
    total: int = Field(description="Failures matching the filters when the run started (before --class).")
    progress: int = Field(description="Failures read so far.")
    summary: ReplaySummary
    error: str | None = Field(default=None, description="Why the run failed (state `failed`).")
    started_at: datetime
    updated_at: datetime | None = Field(
        default=None, description="When the run last stored its progress (after every batch)."
    )
    finished_at: datetime | None = None
    stalled: bool = Field(
        default=False,
        description="Said when read: `running`, but no progress stored for `STALLED_AFTER` (10 minutes): "
        "the process running it was killed. Run the same replay again: it writes only what is missing.",
    )


STALLED_AFTER = timedelta(minutes=10)
"""A running replay with no progress stored for this long is shown ``stalled`` (its process died)."""


def with_stall(run: ReplayRun, now: datetime) -> ReplayRun:
    """``run`` as shown at ``now``: ``stalled`` when it says running but stored nothing for STALLED_AFTER."""
    if run.state != "running":
        return run
    last = run.updated_at or run.started_at
    return run.model_copy(update={"stalled": now - last >= STALLED_AFTER})


class Lineage(BaseModel):
    """Where an accepted record written by a replay came from (kept apart from the record)."""

    record_id: str
    replayed_from: str = Field(description="The failure id whose raw bytes the record was built from.")
    replay_id: str = Field(description="The replay that wrote it.")
    fingerprint: str = Field(description="The target version's fingerprint.")
    replayed_at: datetime


class Resolution(BaseModel):
    """What resolved a failure: the record a replay built from its bytes (kept apart from the failure)."""

    failure_id: str
    record_id: str
    target: str = Field(examples=["shipment@2"])
    replay_id: str
    resolved_at: datetime


@dataclass(frozen=True, slots=True)
class Replayed:
    """One failure that passes the target now: the record built from it, and the lineage it would carry."""

    record: AcceptedRecord
    lineage: Lineage

    def resolves(self, stored: Lineage | None, content_hash: str | None) -> bool:
        """Whether the record stored under this item's id is this one: its ``stored`` lineage names this
        item's failure, and its ``content_hash`` (None: written just now) is this record's."""
        same = content_hash is None or content_hash == self.record.content_hash
        return same and stored is not None and stored.replayed_from == self.lineage.replayed_from

    def resolution(self, stored: Lineage, at: datetime) -> Resolution:
        """The failure's resolution by its record, naming the replay whose lineage the record carries
        (``stored``: an earlier run's, when that run stored the record and stopped before resolving)."""
        return Resolution(
            failure_id=self.lineage.replayed_from,
            record_id=self.record.record_id,
            target=f"{self.record.contract}@{self.record.version}",
            replay_id=stored.replay_id,
            resolved_at=at,
        )


@dataclass
class ReplayWrite:
    """What :meth:`Store.write_replayed` did: record ids newly stored, ids that existed (with their content
    hash), and the failures given a resolution by this call."""

    new_records: set[str] = field(default_factory=set)
    existing_records: dict[str, str] = field(default_factory=dict)
    resolved: set[str] = field(default_factory=set)


@dataclass
class WriteReport:
    """What a write did: ids newly stored, and ids that already existed (with their content hash)."""

    new_records: set[str] = field(default_factory=set)
    existing_records: dict[str, str] = field(default_factory=dict)
    new_failures: set[str] = field(default_factory=set)
    existing_failures: set[str] = field(default_factory=set)
    counted_arrivals: dict[str, int] = field(default_factory=dict)
    """Failure id → arrivals this write added to its occurrences: only failures identified by their bytes,
    new or existing (the first copy of a new one counts too); any other is the same arrival again."""


class PendingWrite(Protocol):
    """A write under way (see :meth:`Store.submit`)."""

    def result(self) -> WriteReport:
        """Wait until it is durably stored and say what it did; raises StoreError if it was not."""
        ...

    def fileno(self) -> int | None:
        """A descriptor that turns readable once :meth:`result` would not wait; None if it does not wait."""
        ...


@dataclass(frozen=True, slots=True)
class Written:
    """A write already done: its report."""

    report: WriteReport

    def result(self) -> WriteReport:
        """The report."""
        return self.report

    def fileno(self) -> None:
        """Nothing to wait for."""


@dataclass(frozen=True, slots=True)
class StagedWrite:
    """A write ready for :meth:`Store.submit`: its records and failures, and the store's own encoding of
    them (SQLite: the rows), built by :meth:`Store.stage`.

    Building one stores nothing, so the pipeline encodes a batch while the write before it is still in
    flight: with SQLite's writer process, the rows of the next batch are built beside the COMMIT of the
    last one instead of after it.
    """

    records: Sequence[AcceptedRecord]
    failures: Sequence[FailureRecord]
    encoded: object = None
    """The store's form of the write; None for a store that encodes it when submitted (MongoDB)."""


class Store(Protocol):
    """Persistence for accepted and failure records."""

    def write(self, records: Sequence[AcceptedRecord], failures: Sequence[FailureRecord]) -> WriteReport:
        """Store all of them durably in one go, skipping any whose id exists; raises StoreError."""
        ...

    @property
    def writes_in_background(self) -> bool:
        """Whether :meth:`submit` returns before the write is done (else it writes, then returns)."""
        ...

    def stage(self, records: Sequence[AcceptedRecord], failures: Sequence[FailureRecord]) -> StagedWrite:
        """The write of ``records`` and ``failures``, encoded for this store; pure (no I/O)."""
        ...

    def submit(self, write: StagedWrite) -> PendingWrite:
        """Start the staged :meth:`write` and return at once where the store can write in the background;
        the caller must call ``result()`` before its next write. Raises StoreError."""
        ...

    def get_record(self, record_id: str) -> AcceptedRecord | None:
        """One accepted record."""
        ...

    def get_failure(self, failure_id: str) -> FailureRecord | None:
        """One failure record."""
        ...

    def query_failures(self, query: FailureQuery, budget: PageBudget = UNBOUNDED) -> FailurePage:
        """Failures matching ``query``, newest first, within ``budget`` (see :class:`PageBudget`)."""
        ...

    def query_records(self, query: RecordQuery, budget: PageBudget = UNBOUNDED) -> RecordPage:
        """Accepted records matching ``query``, in the store's stream order (SQLite: commit order; MongoDB:
        ``_id`` order, settled), from ``query.cursor`` on, within ``budget``; raises InvalidCursor for a
        cursor it did not issue for these filters. Records stored after a page was read come after its
        cursor; a page cut short by ``budget`` has a ``next_cursor`` at its last item."""
        ...

    def stats(self) -> Stats:
        """Counts of accepted records and failures."""
        ...

    def count_failures(self, which: FailurePurge) -> PurgeReport:
        """How many failure records :meth:`purge_failures` would delete now: a dry run. Read-only."""
        ...

    def purge_failures(self, which: FailurePurge, *, batch_size: int = PURGE_BATCH) -> PurgeReport:
        """Delete the failure records ``which`` selects, with their field index and occurrences, in
        batches of ``batch_size`` (one transaction or delete each), and say what was deleted. A failure
        that arrives again during the purge, and so no longer matches, is kept. Raises StoreError."""
        ...

    def raw_payloads(
        self, contract: str, version: int, *, batch_size: int = 500
    ) -> Iterator[list[StoredPayload]]:
        """The raw payloads judged by ``contract@version`` — accepted records, then failures, each in the
        store's own stable order (id order in MongoDB, insertion order in SQLite) — in batches of at most
        ``batch_size``, each payload once. Read-only."""
        ...

    # The audit (docs/audit.md): every stored failure a filter selects, read in bounded memory.

    def iter_failures(self, which: FailureFilter, *, batch_size: int = 500) -> Iterator[list[FailureRecord]]:
        """The failures ``which`` selects, each once, with their occurrences, in batches of at most
        ``batch_size`` in the store's own stable order (SQLite: insertion order; MongoDB: ``_id`` order
        per failure collection, the unrouted one first), keyset-paged — each batch starts after the last
        position of the one before, never at an OFFSET — so memory and each batch's cost stay bounded
        however many are stored. A failure written during the iteration may or may not be seen. Read-only."""
        ...

    # Failure classes (docs/diagnostics.md): kept as failures are written, in the same transaction.

    def query_classes(self, query: ClassQuery) -> ClassPage:
        """Failure classes matching ``query``, in its order; the same cost with 100 failures or 10 million."""
        ...

    def get_class(self, class_id: str) -> FailureClass | None:
        """One failure class; None when no stored failure has that class."""
        ...

    def producer_activity(self, contract: str, producer: str) -> list[ProducerActivity]:
        """What ``producer`` had accepted under each version of ``contract``, oldest version first."""
        ...

    # Analytics (docs/observability.md): per-minute roll-ups kept in the write's own transaction.

    def failure_analytics(self, query: FailureAnalyticsQuery) -> FailureAnalytics:
        """Failures per bucket and group over the query's window; the same cost however much is stored."""
        ...

    def traffic_analytics(self, window: AnalyticsWindow) -> TrafficAnalytics:
        """Accepted and failed events per contract version and bucket, and per producer, over ``window``."""
        ...

    def new_classes(self, since: datetime, until: datetime, limit: int) -> list[FailureClass]:
        """Failure classes first seen in ``[since, until)``, most recent first, at most ``limit``."""
        ...

    # Alerts (docs/observability.md, "Flood guard"): what the flood guards of every process raised.

    def save_alert(self, alert: Alert) -> None:
        """Store ``alert`` (idempotent by ``alert_id``). Raises StoreError."""
        ...

    def list_alerts(self, since: datetime | None, limit: int) -> list[Alert]:
        """Alerts raised at or after ``since`` (all when None), newest first, at most ``limit``."""
        ...

    # Replays (docs/replay.md): runs, and lineage and resolutions kept apart from what they link.

    def write_replayed(self, items: Sequence[Replayed]) -> ReplayWrite:
        """Store each item's record unless its id exists; give a new record its lineage, and give the
        failure a resolution when its record's stored lineage names it (so a run cut short between the two
        resolves it when run again). Unique keys: one lineage per record, one resolution per (failure,
        record). Raises StoreError."""
        ...

    def lineage(self, record_id: str) -> Lineage | None:
        """The lineage of a record a replay wrote; None for any other."""
        ...

    def resolutions(self, failure_id: str) -> list[Resolution]:
        """The resolutions of a failure, oldest first (one per target version it was replayed into)."""
        ...

    def save_replay(self, run: ReplayRun) -> None:
        """Store ``run``, replacing the run stored under its id (its progress). Raises StoreError."""
        ...

    def get_replay(self, replay_id: str) -> ReplayRun | None:
        """One replay run; None for an unknown id."""
        ...

    def list_replays(self, limit: int = 50, offset: int = 0) -> list[ReplayRun]:
        """Replay runs, the latest started first."""
        ...

    # API keys (docs/security.md): tokens are never stored, only their hash, unique.

    def add_key(self, key: ApiKey) -> None:
        """Store a new key; raises StoreError if its id or token hash is stored already."""
        ...

    def list_keys(self) -> list[ApiKey]:
        """Every key, revoked ones included, oldest first."""
        ...

    def find_key(self, token_hash: str) -> ApiKey | None:
        """The key whose token has this hash, revoked or not; None when no key has it."""
        ...

    def revoke_key(self, key_id: str, at: datetime) -> ApiKey | None:
        """Mark the key revoked at ``at`` (a key revoked already keeps its time); None for an unknown id."""
        ...

    def has_keys(self) -> bool:
        """Whether any key was ever stored, revoked ones included: with none the gateway runs open, and
        revoking the last key does not open it again."""
        ...

    # Advisories (docs/diagnostics.md, "Advisory AI"): the advisory AI's durable queue, one job per target,
    # and what it said, stored apart from the failures (a failure record is never modified).

    def enqueue_advisories(self, targets: Sequence[AdvisoryTarget], at: datetime) -> int:
        """Add a queued job, due at ``at``, for each target that has no job yet (idempotent: a target has
        one job ever); how many were added. Raises StoreError."""
        ...

    def lease_advisory_jobs(
        self, owner: str, now: datetime, term: timedelta, limit: int
    ) -> list[AdvisoryJob]:
        """Lease to ``owner``, until ``now + term``, up to ``limit`` jobs due at ``now`` (queued and due, or
        leased with a lease run out), earliest due first. No two callers hold the lease of one job."""
        ...

    def retry_advisory_job(self, owner: str, job: AdvisoryJob, error: str, at: datetime) -> bool:
        """Queue a job ``owner`` leased again, due at ``at``, one attempt more; False (nothing changed) when
        ``owner`` no longer holds its lease."""
        ...

    def finish_advisory_job(self, owner: str, advisory: Advisory) -> bool:
        """Store ``advisory`` and close its job (``done`` for ok, ``failed`` for an error: never retried),
        if ``owner`` still holds the job's lease; False (nothing stored) otherwise."""
        ...

    def get_advisory_job(self, target: AdvisoryTarget) -> AdvisoryJob | None:
        """The target's job; None when it was never enqueued."""
        ...

    def advisory_queue(self) -> dict[str, int]:
        """How many jobs are in each state (``JOB_STATES``, zeros included)."""
        ...

    def list_advisories(self, target: AdvisoryTarget) -> list[Advisory]:
        """The target's advisories, newest first."""
        ...

    def recent_advisory_errors(self, limit: int) -> list[Advisory]:
        """The latest advisories with status error, newest first, at most ``limit``."""
        ...

    def ping(self) -> None:
        """Raise StoreUnavailable when the store cannot serve."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
