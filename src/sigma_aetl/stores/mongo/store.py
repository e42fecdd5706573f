"""The production store: MongoDB, one validated and one failed collection per contract, on sync pymongo.

Sync, not async: the Store protocol is synchronous and every face calls it from worker threads (FastAPI's
thread pool, the Kafka worker's batch loop); ``MongoClient`` is thread-safe and pools its connections, so
one client per store serves them all.

The store only composes: which collection holds what is :mod:`~sigma_aetl.stores.mongo.layout`, the
write path :mod:`~sigma_aetl.stores.mongo.writes`, the reads :mod:`~sigma_aetl.stores.mongo.queries`, and
every public method translates pymongo's errors (:mod:`~sigma_aetl.stores.mongo.errors`). See
docs/mongodb.md.
"""

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from datetime import UTC, datetime, timedelta
from functools import cached_property

from bson import ObjectId

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
from sigma_aetl.errors import StoreError
from sigma_aetl.stores import cursor, metadata, paging
from sigma_aetl.stores.base import (
    PURGE_BATCH,
    UNBOUNDED,
    ClassPage,
    ClassQuery,
    FailureFilter,
    FailurePage,
    FailurePurge,
    FailureQuery,
    Lineage,
    PageBudget,
    ProducerActivity,
    PurgeReport,
    RecordPage,
    RecordQuery,
    Replayed,
    ReplayRun,
    ReplayWrite,
    Resolution,
    StagedWrite,
    Stats,
    WriteReport,
    Written,
)
from sigma_aetl.stores.mongo import (
    advisories,
    alerts,
    analytics,
    class_build,
    class_queries,
    classes,
    keys,
    queries,
    replays,
    rollup_build,
    rollups,
    writes,
)
from sigma_aetl.stores.mongo.connection import connect, settle_option
from sigma_aetl.stores.mongo.documents import FAILURE_FIELDS, Doc, failure_of, record_of
from sigma_aetl.stores.mongo.errors import translate_errors
from sigma_aetl.stores.mongo.layout import Layout


class MongoStore:
    """A :class:`~sigma_aetl.stores.base.Store` on one MongoDB database.

    ``MongoStore("mongodb://db1,db2,db3/sigma?replicaSet=rs0&w=majority")``: the URL must name the
    database; ``w`` defaults to ``majority``; every other pymongo URL option (``journal``, ``wtimeoutMS``,
    ``serverSelectionTimeoutMS``, TLS...) passes through. Opening builds the indexes, so it raises
    StoreUnavailable when the server cannot be reached; transient errors of a write are retried a few
    times with exponential backoff, then raised as StoreUnavailable. ``recordsSettleMS`` (the store's own
    option) sets how long the records stream waits before showing a record; :attr:`clock` is what "now"
    is for it.
    """

    def __init__(self, url: str, *, read_only: bool = False) -> None:
        """Connect and build the indexes; ``read_only`` builds nothing and refuses writes."""
        url, self.settle = settle_option(url)
        self.clock: Callable[[], datetime] = _now
        """The reader's clock, for the records stream's settled horizon; tests move it."""
        self._client, database = connect(url)
        self._layout = Layout(database)
        self._replays = replays.Replays(database)
        self._read_only = read_only
        self._classes_ready = False
        self._rollups_ready = False
        if read_only:
            return
        try:
            with translate_errors():
                self._layout.set_up()
                classes.set_up(self._layout)
                class_build.build(self._layout)
                rollups.set_up(self._layout)
                rollup_build.build(self._layout)
                self._replays.set_up()
        except BaseException:
            self._client.close()
            raise

    # -- writes ---------------------------------------------------------------------------------------

    @property
    def writes_in_background(self) -> bool:
        """False: pymongo's calls block, so :meth:`submit` writes before it returns."""
        return False

    def stage(self, records: Sequence[AcceptedRecord], failures: Sequence[FailureRecord]) -> StagedWrite:
        """The write as given: its documents are built when it is submitted, which writes at once."""
        return StagedWrite(records, failures)

    def submit(self, write: StagedWrite) -> Written:
        """:meth:`write`, done at once (pymongo's calls block)."""
        return Written(self.write(write.records, write.failures))

    def write(self, records: Sequence[AcceptedRecord], failures: Sequence[FailureRecord]) -> WriteReport:
        """Insert every record and failure whose id is new (counting the arrivals of failures identified by
        their bytes); unordered bulk writes, one per collection."""
        if self._read_only:
            raise StoreError("the MongoDB store was opened read-only; nothing was written")
        parts = metadata.split(records, failures)
        with translate_errors():
            writes.headers(self._layout.headers, parts.headers)  # first: no record names missing headers
            return writes.write(self._layout, parts.records, parts.failures)

    # -- reads ----------------------------------------------------------------------------------------

    def get_record(self, record_id: str) -> AcceptedRecord | None:
        """One accepted record by id, looked up in each contract's collection."""
        with translate_errors():
            for name in self._layout.names():
                found = self._layout.records(name).find_one({"record_id": record_id}, {"doc": 1})
                if found is not None:
                    return metadata.joined([record_of(found)], self._headers)[0]
        return None

    def get_failure(self, failure_id: str) -> FailureRecord | None:
        """One failure record by id, looked up in the unrouted collection and each contract's."""
        with translate_errors():
            for collection in self._layout.failure_collections(None):
                found = collection.find_one({"failure_id": failure_id}, FAILURE_FIELDS)
                if found is not None:
                    return metadata.joined([failure_of(found)], self._headers)[0]
        return None

    def query_failures(self, query: FailureQuery, budget: PageBudget = UNBOUNDED) -> FailurePage:
        """Failures matching the filters, newest first; several collections are merged in order, and read
        one document at a time into the page (``paging.py``)."""
        where = queries.failure_filter(query)
        items: list[FailureRecord] = []
        more = False
        with translate_errors():
            collections = self._layout.failure_collections(query.contract)
            total = sum(collection.count_documents(where) for collection in collections)
            if total > query.offset:
                with closing(queries.page(collections, where, query.offset, query.limit + 1)) as docs:
                    items, more = paging.take(map(failure_of, docs), query.limit, budget)
        next_offset = query.offset + len(items) if more else None
        return FailurePage(
            items=metadata.joined(items, self._headers),
            total=total,
            limit=query.limit,
            offset=query.offset,
            next_offset=next_offset,
        )

    def query_records(self, query: RecordQuery, budget: PageBudget = UNBOUNDED) -> RecordPage:
        """Accepted records in ``_id`` order, merged over the contracts' collections, after the cursor's
        ``_id`` and below the settled horizon: only ``_id``s older than :attr:`settle` by :attr:`clock`."""
        after = _object_id(cursor.resume(query, "mongodb"))
        horizon = ObjectId.from_datetime(self.clock() - self.settle)
        where = queries.record_filter(query)
        ids: list[ObjectId] = []

        def records(docs: Iterator[Doc]) -> Iterator[AcceptedRecord]:
            for doc in docs:
                ids.append(doc["_id"])
                yield record_of(doc)

        with translate_errors():
            names = [name for name in self._layout.names() if query.contract in (None, name)]
            collections = [self._layout.records(name) for name in names]
            with closing(queries.stream(collections, where, after, horizon, query.limit + 1)) as found:
                items, more = paging.take(records(found), query.limit, budget)
        last = ids[len(items) - 1] if items else after
        resume = cursor.issue(query, "mongodb", str(last) if last is not None else None)
        return RecordPage(
            items=metadata.joined(items, self._headers),
            limit=query.limit,
            next_cursor=resume if more else None,
            resume_cursor=resume,
        )

    def _headers(self, keys: set[str]) -> dict[str, bytes]:
        """The stored request headers under ``keys`` (``stores/metadata.py``)."""
        with translate_errors():
            found = self._layout.headers.find({"_id": {"$in": sorted(keys)}})
            return {str(doc["_id"]): bytes(doc["doc"]) for doc in found}

    def stats(self) -> Stats:
        """Counts per contract version and per root cause, of failures and their arrivals, summed over
        every collection."""
        with translate_errors():
            names = self._layout.names()
            accepted = queries.count_by((self._layout.records(name) for name in names), "$contract_ref")
            failures = self._layout.failure_collections(None)
            by_ref, arrivals_by_ref = queries.occurrences_by(failures, "$contract_ref")
            by_cause, arrivals_by_cause = queries.occurrences_by(failures, "$root_cause")
        return Stats(
            accepted_total=sum(accepted.values()),
            failures_total=sum(by_ref.values()),
            failure_occurrences_total=sum(arrivals_by_ref.values()),
            accepted_by_contract=dict(sorted(accepted.items())),
            failures_by_contract=dict(sorted(by_ref.items())),
            failures_by_root_cause=dict(sorted(by_cause.items())),
            failure_occurrences_by_contract=dict(sorted(arrivals_by_ref.items())),
            failure_occurrences_by_root_cause=dict(sorted(arrivals_by_cause.items())),
        )

    def count_failures(self, which: FailurePurge) -> PurgeReport:
        """How many failures a purge of ``which`` would delete now, per root cause."""
        with translate_errors():
            collections = self._layout.failure_collections(which.contract)
            by_cause = queries.count_by_cause(collections, queries.purge_filter(which))
        return _purge_report(by_cause)

    def purge_failures(self, which: FailurePurge, *, batch_size: int = PURGE_BATCH) -> PurgeReport:
        """Delete the failures ``which`` selects from each failure collection, ``batch_size`` per delete
        (a failure's field index and occurrences are fields of its own document)."""
        if self._read_only:
            raise StoreError("the MongoDB store was opened read-only; nothing was deleted")
        deleted: Counter[str] = Counter()
        with translate_errors():
            where = queries.purge_filter(which)
            for collection in self._layout.failure_collections(which.contract):
                deleted += writes.purge(collection, where, batch_size, self._forget)
        return _purge_report(deleted)

    def _forget(self, deleted: list[Doc]) -> None:
        """Count purged failures out of their classes (``classes.py``) and roll-ups (``rollups.py``)."""
        classes.forget(self._layout, deleted)
        rollups.forget(self._layout, deleted)

    def raw_payloads(
        self, contract: str, version: int, *, batch_size: int = 500
    ) -> Iterator[list[StoredPayload]]:
        """Raw payloads of ``contract@version`` from the contract's two collections, in id order."""
        with translate_errors():
            known = contract in self._layout.names()
        if known:
            yield from queries.payloads(self._layout.records(contract), "record_id", version, batch_size)
            yield from queries.payloads(self._layout.failures(contract), "failure_id", version, batch_size)

    def iter_failures(self, which: FailureFilter, *, batch_size: int = 500) -> Iterator[list[FailureRecord]]:
        """Failures ``which`` selects, collection after collection, each in ``_id`` order (keyset paging
        along the ``_id`` index)."""
        where = queries.failure_filter(which)
        with translate_errors():
            collections = self._layout.failure_collections(which.contract)
        for collection in collections:
            for docs in queries.after_ids(collection, where, batch_size):
                yield metadata.joined([failure_of(doc) for doc in docs], self._headers)

    # -- replays (replays.py) ---------------------------------------------------------------------------

    def write_replayed(self, items: Sequence[Replayed]) -> ReplayWrite:
        """Lineage, records, then resolutions of a replay batch, in the order a rerun repairs."""
        self._writable("nothing was replayed")
        if not items:
            return ReplayWrite()
        names = sorted({item.record.contract for item in items})
        ids = sorted({item.record.record_id for item in items})
        with translate_errors():
            for name in names:
                self._layout.ensure(name)
            existing = {
                str(doc["record_id"])
                for name in names
                for doc in queries.find_ids(self._layout.records(name), "record_id", ids)
            }
            return self._replays.write(items, existing, lambda records: self.write(records, []), _now())

    def lineage(self, record_id: str) -> Lineage | None:
        """The lineage of a record a replay wrote."""
        with translate_errors():
            return self._replays.lineage_of(record_id)

    def resolutions(self, failure_id: str) -> list[Resolution]:
        """A failure's resolutions, oldest first."""
        with translate_errors():
            return self._replays.resolutions_of(failure_id)

    def save_replay(self, run: ReplayRun) -> None:
        """Insert or replace a replay run."""
        self._writable("no replay was saved")
        with translate_errors():
            self._replays.save(run)

    def get_replay(self, replay_id: str) -> ReplayRun | None:
        """One replay run."""
        with translate_errors():
            return self._replays.get(replay_id)

    def list_replays(self, limit: int = 50, offset: int = 0) -> list[ReplayRun]:
        """Replay runs, the latest started first."""
        with translate_errors():
            return self._replays.every(limit, offset)

    # -- API keys (keys.py) ----------------------------------------------------------------------------

    def add_key(self, key: ApiKey) -> None:
        """Insert a new key."""
        self._writable("no key was added")
        with translate_errors():
            keys.add(self._layout.keys, key)

    def list_keys(self) -> list[ApiKey]:
        """Every key, oldest first."""
        with translate_errors():
            return keys.every(self._layout.keys)

    def find_key(self, token_hash: str) -> ApiKey | None:
        """The key with this token hash."""
        with translate_errors():
            return keys.find(self._layout.keys, token_hash)

    def revoke_key(self, key_id: str, at: datetime) -> ApiKey | None:
        """Revoke a key (once: a revoked key keeps its time)."""
        self._writable("no key was revoked")
        with translate_errors():
            return keys.revoke(self._layout.keys, key_id, at)

    # -- failure classes (classes.py, class_queries.py) ------------------------------------------------

    def query_classes(self, query: ClassQuery) -> ClassPage:
        """Failure classes matching ``query``, from the class collection alone."""
        with translate_errors():
            self._require_classes()
            return class_queries.page(self._layout, query)

    def get_class(self, class_id: str) -> FailureClass | None:
        """One failure class by id."""
        with translate_errors():
            self._require_classes()
            return class_queries.one(self._layout, class_id)

    def producer_activity(self, contract: str, producer: str) -> list[ProducerActivity]:
        """A producer's accepted records per version of ``contract``."""
        with translate_errors():
            self._require_classes()
            return class_queries.activity(self._layout, contract, producer)

    # Analytics and alerts: built by the observability issue's analytics and flood-guard work.

    def failure_analytics(self, query: FailureAnalyticsQuery) -> FailureAnalytics:
        """Failures per bucket and group, from the roll-ups alone (``analytics.py``)."""
        with translate_errors():
            self._require_rollups()
            return analytics.failures(self._layout, query)

    def traffic_analytics(self, window: AnalyticsWindow) -> TrafficAnalytics:
        """Traffic per contract version and producer, from the roll-ups alone."""
        with translate_errors():
            self._require_rollups()
            return analytics.traffic(self._layout, window)

    def new_classes(self, since: datetime, until: datetime, limit: int) -> list[FailureClass]:
        """Classes first seen in ``[since, until)``, from the class collection alone."""
        with translate_errors():
            self._require_classes()
            return analytics.new_classes(self._layout, since, until, limit)

    def save_alert(self, alert: Alert) -> None:
        """Store an alert once (an upsert by its id, ``alerts.py``)."""
        self._writable("no alert was stored")
        with translate_errors():
            alerts.save(self._alerts.ready(), alert)

    def list_alerts(self, since: datetime | None, limit: int) -> list[Alert]:
        """Alerts raised at or after ``since``, newest first."""
        with translate_errors():
            return alerts.listed(self._alerts.alerts, since, limit)

    @cached_property
    def _alerts(self) -> alerts.AlertCollection:
        return alerts.AlertCollection(self._layout.unrouted.database)

    def _require_classes(self) -> None:
        if not self._classes_ready:
            class_build.require(self._layout)
            self._classes_ready = True

    def _require_rollups(self) -> None:
        self._require_classes()
        if not self._rollups_ready:
            rollup_build.require(self._layout)
            self._rollups_ready = True

    def has_keys(self) -> bool:
        """Whether any key was stored, revoked or not."""
        with translate_errors():
            return keys.any_key(self._layout.keys)

    def _writable(self, nothing_done: str) -> None:
        if self._read_only:
            raise StoreError(f"the MongoDB store was opened read-only; {nothing_done}")

    # -- advisories (advisories.py): the advisory AI's queue and answers, apart from the failures -------

    @cached_property
    def _advice(self) -> advisories.AdvisoryCollections:
        return advisories.AdvisoryCollections(self._layout.unrouted.database)

    def enqueue_advisories(self, targets: Sequence[AdvisoryTarget], at: datetime) -> int:
        """Queue a job for each target without one (upserts that only set on insert)."""
        self._writable("nothing was enqueued")
        with translate_errors():
            return advisories.enqueue(self._advice.ready().jobs, targets, at)

    def lease_advisory_jobs(
        self, owner: str, now: datetime, term: timedelta, limit: int
    ) -> list[AdvisoryJob]:
        """Lease due jobs to ``owner`` (one atomic update per job)."""
        self._writable("no job was leased")
        with translate_errors():
            return advisories.lease(self._advice.ready().jobs, owner, now, term, limit)

    def retry_advisory_job(self, owner: str, job: AdvisoryJob, error: str, at: datetime) -> bool:
        """Queue a leased job again for ``at``."""
        self._writable("no job was changed")
        with translate_errors():
            return advisories.retry(self._advice.ready().jobs, owner, job, error, at)

    def finish_advisory_job(self, owner: str, advisory: Advisory) -> bool:
        """Close the job and store its advisory."""
        self._writable("no advisory was stored")
        with translate_errors():
            return advisories.finish(self._advice.ready(), owner, advisory)

    def get_advisory_job(self, target: AdvisoryTarget) -> AdvisoryJob | None:
        """The target's job."""
        with translate_errors():
            return advisories.job_of(self._advice.jobs, target)

    def advisory_queue(self) -> dict[str, int]:
        """Jobs per state."""
        with translate_errors():
            return advisories.depth(self._advice.jobs)

    def list_advisories(self, target: AdvisoryTarget) -> list[Advisory]:
        """The target's advisories, newest first."""
        with translate_errors():
            return advisories.of_target(self._advice.advisories, target)

    def recent_advisory_errors(self, limit: int) -> list[Advisory]:
        """The latest advisory errors."""
        with translate_errors():
            return advisories.recent_errors(self._advice.advisories, limit)

    # -- the connection -------------------------------------------------------------------------------

    def ping(self) -> None:
        """Raise StoreUnavailable when the server does not answer."""
        with translate_errors():
            self._client.admin.command("ping")

    def close(self) -> None:
        """Close the client and its connection pool."""
        self._client.close()


def _now() -> datetime:
    return datetime.now(UTC)


def _object_id(position: str | None) -> ObjectId | None:
    """A cursor's position as an ``_id`` (None: before the first)."""
    if position is None:
        return None
    if len(position) != 24 or not ObjectId.is_valid(position):
        raise cursor.malformed_position()
    return ObjectId(position)


def _purge_report(by_cause: Counter[str]) -> PurgeReport:
    counts = {cause: n for cause, n in sorted(by_cause.items()) if n}
    return PurgeReport(deleted=sum(counts.values()), by_root_cause=counts)
