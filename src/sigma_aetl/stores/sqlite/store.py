"""The embedded default store: one SQLite file, WAL mode, batched transactions.

Unique primary keys on ``record_id`` and ``failure_id`` make every write idempotent. A write runs in one
``BEGIN IMMEDIATE`` transaction: it looks up which ids exist, inserts the rest, and commits — so the report
of what was new is exact even with several writers on one file. Reads use one connection per thread.
Opened from a URL (as every face does), the writes run in a writer process of their own
(:mod:`sigma_aetl.stores.sqlite.writer`), so SQLite's work uses the second core.
"""

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, cast

import orjson

from sigma_aetl.core import serial
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
from sigma_aetl.core.records import (
    MAX_LATEST,
    AcceptedRecord,
    Arrival,
    FailureRecord,
    RawPayload,
    StoredPayload,
)
from sigma_aetl.errors import ConfigError, StoreError, StoreUnavailable
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
    PendingWrite,
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
    from_micros,
    micros,
)
from sigma_aetl.stores.classes import source_producers
from sigma_aetl.stores.sqlite import (
    advisories,
    alerts,
    analytics,
    class_migration,
    class_queries,
    classes,
    keys,
    paths,
    replays,
    rollup_migration,
    rollups,
    stream,
)
from sigma_aetl.stores.sqlite.apply import apply
from sigma_aetl.stores.sqlite.lookups import by_keys
from sigma_aetl.stores.sqlite.rows import Rows, report, rows_of
from sigma_aetl.stores.sqlite.transactions import transaction
from sigma_aetl.stores.sqlite.writer import WriterProcess

Synchronous = Literal["OFF", "NORMAL", "FULL", "EXTRA"]
WriterMode = Literal["process", "inline", "none"]
"""Who writes: the writer process (what a URL opens unless it says otherwise), the calling thread
(``inline``), or nobody (``none``: opened read-only — no writer, no schema, nothing created)."""
_WRITERS = ("process", "inline")
"""What a URL may ask for; ``none`` comes only from ``read_only``."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    record_id    TEXT PRIMARY KEY,
    contract     TEXT NOT NULL,
    version      INTEGER NOT NULL,
    fingerprint  TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    received_at  INTEGER NOT NULL,
    doc          BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS records_version ON records (contract, version);
CREATE TABLE IF NOT EXISTS failures (
    failure_id   TEXT PRIMARY KEY,
    contract_ref TEXT NOT NULL,
    contract     TEXT,
    version      INTEGER,
    root_cause   TEXT NOT NULL,
    stage        TEXT NOT NULL,
    received_at  INTEGER NOT NULL,
    doc          BLOB NOT NULL,
    occurrences  INTEGER NOT NULL DEFAULT 1,
    first_seen   INTEGER,
    last_seen    INTEGER,
    latest       BLOB,
    class_id     TEXT
);
CREATE INDEX IF NOT EXISTS failures_received ON failures (received_at DESC);
CREATE INDEX IF NOT EXISTS failures_contract ON failures (contract, version, received_at DESC);
CREATE INDEX IF NOT EXISTS failures_cause ON failures (root_cause, received_at DESC);
CREATE TABLE IF NOT EXISTS request_headers (
    sha256 TEXT PRIMARY KEY,
    doc    BLOB NOT NULL
) WITHOUT ROWID;
DROP INDEX IF EXISTS records_received;
DROP INDEX IF EXISTS records_contract;
DROP INDEX IF EXISTS failures_contract_id;
DROP INDEX IF EXISTS failures_version;
"""
# Ids are hashes, so every index holding one takes each insert on a random page: at millions of rows that
# page is rarely cached and each insert dirties a page of its own. So only the primary keys hold ids; the
# per-version indexes are (contract, version), which SQLite extends with the rowid: appended in order, and
# failures' field paths are keyed by the failure's rowid (paths.py). (Stores made before this layout lose
# their id-ordered indexes once, when opened; failures_version was a prefix of failures_contract.)

_OCCURRENCE_COLUMNS = {
    "occurrences": "INTEGER NOT NULL DEFAULT 1",
    "first_seen": "INTEGER",
    "last_seen": "INTEGER",
    "latest": "BLOB",
}
"""A failure's arrivals, beside its document (see :mod:`sigma_aetl.stores.arrivals`): how many, the first
and last ``received_at`` (µs; NULL: the row's own), and the latest arrivals after the row's own, at most
MAX_LATEST, as JSON Lines (one compact JSON object per line; NULL: none, the row's document being the
arrival before them). Stores made before them gain them when opened for writing (:func:`_migrate`); a
store opened read-only reads them as a failure seen once."""
_OCCURRENCES = "occurrences, first_seen, last_seen, latest"
_SEEN_ONCE = "1, NULL, NULL, NULL"

_WRITER_CACHE_KIB = 65_536  # the writer's page cache: 64 MiB
_READER_CACHE_KIB = 8_192  # each reader thread's: 8 MiB
_CHECKPOINT_PAGES = 20_000  # about 80 MiB of WAL between checkpoints


class SqliteStore:
    """A :class:`~sigma_aetl.stores.base.Store` on one SQLite file.

    ``writer`` has no default: a URL (:meth:`from_url`, what every face opens) means the writer process
    unless it says ``writer=inline``, and a direct caller states which it wants.
    """

    def __init__(
        self,
        path: Path,
        *,
        synchronous: Synchronous = "FULL",
        timeout: float = 30.0,
        writer: WriterMode,
    ) -> None:
        self.path = path
        self._synchronous = synchronous
        self._timeout = timeout
        self._lock = threading.Lock()
        self._local = threading.local()
        self._process: WriterProcess | None = None
        self._writer: sqlite3.Connection | None = None
        self._occurrence_select: str | None = None
        self._paths_clause: str | None = None
        self._classes_ready = False
        self._rollups_ready = False
        if str(path) == ":memory:":
            raise ConfigError("an in-memory SQLite store cannot be shared between threads; use a file")
        if writer == "none":
            if not path.is_file():
                raise StoreUnavailable(f"no store at {str(path)!r}: nothing has been stored there yet")
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create the directory for {str(path)!r}: {exc.strerror}") from exc
        self._writer = self._connect(_WRITER_CACHE_KIB)
        with translate_errors():
            self._writer.executescript(
                _SCHEMA + paths.SCHEMA + keys.SCHEMA + classes.SCHEMA + rollups.SCHEMA + replays.SCHEMA
            )
            _migrate(self._writer)
            paths.migrate(self._writer)
            class_migration.migrate(self._writer)
            rollup_migration.migrate(self._writer)
        if writer == "process":
            self._process = WriterProcess(str(path), self._pragmas(_WRITER_CACHE_KIB), timeout)
            self._writer.close()  # it made the schema; the writer process does every write from here

    @classmethod
    def from_url(cls, url: str, *, read_only: bool = False) -> "SqliteStore":
        """``sqlite:///relative.db`` or ``sqlite:////absolute.db``; options ``?synchronous=NORMAL`` and
        ``writer=inline`` (write in the calling thread instead of the writer process). ``read_only``
        opens an existing store for reading only, whatever the URL says."""
        if not url.startswith("sqlite:///"):
            raise ConfigError(f"a SQLite URL looks like sqlite:///path.db, not {url!r}")
        path, _, query = url.removeprefix("sqlite:///").partition("?")
        options = dict(part.partition("=")[::2] for part in query.split("&") if part)
        synchronous = options.pop("synchronous", "FULL").upper()
        writer = options.pop("writer", "process").lower()
        if options or synchronous not in ("OFF", "NORMAL", "FULL", "EXTRA") or writer not in _WRITERS:
            raise ConfigError(
                f"unsupported SQLite URL options in {url!r}; only synchronous=OFF|NORMAL|FULL|EXTRA "
                "and writer=process|inline"
            )
        mode = "none" if read_only else cast(WriterMode, writer)
        return cls(Path(path), synchronous=cast(Synchronous, synchronous), writer=mode)

    def _pragmas(self, cache_kib: int) -> list[str]:
        return [
            "PRAGMA journal_mode=WAL",
            f"PRAGMA synchronous={self._synchronous}",
            # ids are hashes, so index inserts land on random pages: at millions of rows the default
            # 2 MiB page cache misses on almost every insert
            f"PRAGMA cache_size=-{cache_kib}",
            # Checkpoints copy the WAL's pages into the database at random places (ids are hashes), and
            # the commit that runs one waits for it: fewer, larger checkpoints write each hot page once
            # instead of once per few transactions. The WAL grows to about this many 4 KiB pages.
            f"PRAGMA wal_autocheckpoint={_CHECKPOINT_PAGES}",
        ]

    def _connect(self, cache_kib: int = _READER_CACHE_KIB) -> sqlite3.Connection:
        with translate_errors():
            conn = sqlite3.connect(
                self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False
            )
            for pragma in self._pragmas(cache_kib):
                conn.execute(pragma)
        return conn

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    def write(self, records: Sequence[AcceptedRecord], failures: Sequence[FailureRecord]) -> WriteReport:
        """Store every record and failure whose id is new, in one transaction."""
        return self.submit(self.stage(records, failures)).result()

    def stage(self, records: Sequence[AcceptedRecord], failures: Sequence[FailureRecord]) -> StagedWrite:
        """The rows of the write (``rows.py``), their headers taken out (``metadata.py``); pure."""
        return StagedWrite(records, failures, _rows(records, failures))

    @property
    def writes_in_background(self) -> bool:
        """True with the writer process."""
        return self._process is not None

    def submit(self, write: StagedWrite) -> PendingWrite:
        """Start the write; with the writer process, return while it runs (``result()`` waits)."""
        if not write.records and not write.failures:
            return Written(WriteReport())
        rows = write.encoded  # staged by another store (no rows): encoded here
        if not isinstance(rows, Rows):
            rows = _rows(write.records, write.failures)
        if self._process is None:
            if self._writer is None:
                raise StoreError(f"the store {str(self.path)!r} was opened read-only; nothing was written")
            with self._lock, translate_errors(), transaction(self._writer) as conn:
                existing = apply(conn, rows)
            return Written(report(rows, existing))
        process = self._live_process(self._process)
        process.send(rows)
        return _InProcess(process, rows)

    def _live_process(self, process: WriterProcess) -> WriterProcess:
        """The writer process, started anew if it died (its last write was reported unavailable)."""
        if process.alive() or process.in_flight:  # in flight: the send that follows refuses, loudly
            return process
        with self._lock:
            if self._process is process:
                process.close()
                self._process = WriterProcess(str(self.path), self._pragmas(_WRITER_CACHE_KIB), self._timeout)
            assert self._process is not None
            return self._process

    def get_record(self, record_id: str) -> AcceptedRecord | None:
        """One accepted record by id."""
        with translate_errors():
            row = (
                self._reader().execute("SELECT doc FROM records WHERE record_id = ?", (record_id,)).fetchone()
            )
        return metadata.joined([serial.loads(AcceptedRecord, row[0])], self._headers)[0] if row else None

    def get_failure(self, failure_id: str) -> FailureRecord | None:
        """One failure record by id, with its occurrences."""
        with translate_errors():
            conn = self._reader()
            select = f"SELECT doc, {self._occurrences(conn)} FROM failures WHERE failure_id = ?"
            row = conn.execute(select, (failure_id,)).fetchone()
        return metadata.joined([_failure_of(row)], self._headers)[0] if row else None

    def query_failures(self, query: FailureQuery, budget: PageBudget = UNBOUNDED) -> FailurePage:
        """Failures matching the filters, newest first, a page at a time, read row by row (``paging.py``)."""
        with translate_errors():
            conn = self._reader()
            where, params = _failure_filter(query, self._field_clause(conn))
            total = conn.execute(f"SELECT count(*) FROM failures {where}", params).fetchone()[0]
            rows = conn.execute(
                f"SELECT doc, {self._occurrences(conn)} FROM failures {where} "
                "ORDER BY received_at DESC, failure_id DESC LIMIT ? OFFSET ?",
                [*params, query.limit + 1, query.offset],
            )
            items, more = paging.take(map(_failure_of, rows), query.limit, budget)
            rows.close()
        next_offset = query.offset + len(items) if more else None
        return FailurePage(
            items=metadata.joined(items, self._headers),
            total=total,
            limit=query.limit,
            offset=query.offset,
            next_offset=next_offset,
        )

    def query_records(self, query: RecordQuery, budget: PageBudget = UNBOUNDED) -> RecordPage:
        """Accepted records in commit order (the rowid), after the cursor's rowid (see ``stream.py``)."""
        after = _rowid(cursor.resume(query, "sqlite"))
        rowids: list[int] = []

        def records(found: Iterator[stream.Row]) -> Iterator[AcceptedRecord]:
            for rowid, doc in found:
                rowids.append(rowid)
                yield serial.loads(AcceptedRecord, doc)

        with translate_errors():
            items, more = paging.take(
                records(stream.rows(self._reader(), query, after, query.limit + 1)), query.limit, budget
            )
        last = str(rowids[len(items) - 1]) if items else (str(after) if after else None)
        resume = cursor.issue(query, "sqlite", last)
        return RecordPage(
            items=metadata.joined(items, self._headers),
            limit=query.limit,
            next_cursor=resume if more else None,
            resume_cursor=resume,
        )

    def _headers(self, keys: set[str]) -> dict[str, bytes]:
        """The stored request headers under ``keys`` (``stores/metadata.py``)."""
        select = "SELECT sha256, doc FROM request_headers"
        with translate_errors():
            return dict(by_keys(self._reader(), select, "sha256", sorted(keys)))

    def stats(self) -> Stats:
        """Counts per contract version and per root cause, of failure records and of their arrivals."""
        with translate_errors():
            conn = self._reader()
            accepted = conn.execute(
                "SELECT contract || '@' || version, count(*) FROM records GROUP BY 1"
            ).fetchall()
            arrivals = "sum(occurrences)" if self._occurrences(conn) == _OCCURRENCES else "count(*)"
            by_ref = conn.execute(
                f"SELECT contract_ref, count(*), {arrivals} FROM failures GROUP BY 1"
            ).fetchall()
            by_cause = conn.execute(
                f"SELECT root_cause, count(*), {arrivals} FROM failures GROUP BY 1"
            ).fetchall()
        return Stats(
            accepted_total=sum(n for _, n in accepted),
            failures_total=sum(n for _, n, _ in by_ref),
            failure_occurrences_total=sum(n for _, _, n in by_ref),
            accepted_by_contract=dict(sorted(accepted)),
            failures_by_contract={key: n for key, n, _ in sorted(by_ref)},
            failures_by_root_cause={key: n for key, n, _ in sorted(by_cause)},
            failure_occurrences_by_contract={key: n for key, _, n in sorted(by_ref)},
            failure_occurrences_by_root_cause={key: n for key, _, n in sorted(by_cause)},
        )

    def count_failures(self, which: FailurePurge) -> PurgeReport:
        """How many failures a purge of ``which`` would delete now, per root cause."""
        with translate_errors():
            conn = self._reader()
            where, params = _purge_filter(
                which, self._occurrences(conn) == _OCCURRENCES, self._field_clause(conn)
            )
            rows = conn.execute(f"SELECT root_cause, count(*) FROM failures {where} GROUP BY 1", params)
            by_cause = dict(sorted(rows.fetchall()))
        return PurgeReport(deleted=sum(by_cause.values()), by_root_cause=by_cause)

    def purge_failures(self, which: FailurePurge, *, batch_size: int = PURGE_BATCH) -> PurgeReport:
        """Delete the failures ``which`` selects, ``batch_size`` per transaction, with their field index rows
        (their occurrences are columns of their own rows). Runs on a connection of its own beside the writer
        process (SQLite's lock orders the two), or on the inline writer's."""
        if self._process is None and self._writer is None:
            raise StoreError(f"the store {str(self.path)!r} was opened read-only; nothing was deleted")
        where, params = _purge_filter(which, occurrences=True)
        deleted: dict[str, int] = {}
        with self._beside_writer() as conn:
            while batch := _purge_batch(conn, where, [*params, batch_size]):
                for cause in batch:
                    deleted[cause] = deleted.get(cause, 0) + 1
        by_cause = dict(sorted(deleted.items()))
        return PurgeReport(deleted=sum(by_cause.values()), by_root_cause=by_cause)

    @contextmanager
    def _beside_writer(self) -> Iterator[sqlite3.Connection]:
        """A connection for an operator's write (a purge, a key): the inline writer's, between its writes,
        or one of its own beside the writer process."""
        if self._process is None and self._writer is not None:  # inline: on its writer, between writes
            with self._lock:
                yield self._writer
            return
        conn = self._connect(_WRITER_CACHE_KIB)
        try:
            yield conn
        finally:
            conn.close()

    def _occurrences(self, conn: sqlite3.Connection) -> str:
        """The occurrence columns to select: the real ones, or a failure seen once in an older store opened
        read-only (one opened for writing has them: see :func:`_migrate`)."""
        if self._occurrence_select is None:
            self._occurrence_select = _OCCURRENCES if _has_occurrences(conn) else _SEEN_ONCE
        return self._occurrence_select

    def _field_clause(self, conn: sqlite3.Connection) -> str:
        """The field-path filter for this store's layout (``paths.py``); looked up once."""
        if self._paths_clause is None:
            self._paths_clause = paths.field_clause(conn)
        return self._paths_clause

    def raw_payloads(
        self, contract: str, version: int, *, batch_size: int = 500
    ) -> Iterator[list[StoredPayload]]:
        """Raw payloads of ``contract@version``: records, then failures, in storage order (keyset paging
        on the rowid, along the per-version index)."""
        yield from self._payloads("records", "record_id", contract, version, batch_size)
        yield from self._payloads("failures", "failure_id", contract, version, batch_size)

    def _payloads(
        self, table: Literal["records", "failures"], key: str, contract: str, version: int, size: int
    ) -> Iterator[list[StoredPayload]]:
        kind: Literal["record", "failure"] = "record" if table == "records" else "failure"
        select = f"SELECT rowid, {key}, doc FROM {table} WHERE contract = ? AND version = ? AND rowid > ? "
        last = 0
        while True:
            with translate_errors():
                rows = (
                    self._reader()
                    .execute(f"{select} ORDER BY rowid LIMIT ?", (contract, version, last, size))
                    .fetchall()
                )
            if not rows:
                return
            yield [StoredPayload(kind, row[1], _raw_of(row[2])) for row in rows]
            last = rows[-1][0]

    def iter_failures(self, which: FailureFilter, *, batch_size: int = 500) -> Iterator[list[FailureRecord]]:
        """Failures ``which`` selects in insertion order: keyset paging on the rowid."""
        with translate_errors():
            where, params = _failure_filter(which, self._field_clause(self._reader()))
        after = f"{where} AND rowid > ?" if where else "WHERE rowid > ?"
        last = 0
        while True:
            with translate_errors():
                conn = self._reader()
                select = f"SELECT rowid, doc, {self._occurrences(conn)} FROM failures {after} "
                rows = conn.execute(
                    f"{select} ORDER BY rowid LIMIT ?", [*params, last, batch_size]
                ).fetchall()
            if not rows:
                return
            yield metadata.joined([_failure_of(row[1:]) for row in rows], self._headers)
            last = rows[-1][0]

    # -- replays (replays.py) ---------------------------------------------------------------------------

    def write_replayed(self, items: Sequence[Replayed]) -> ReplayWrite:
        """Records, lineage and resolutions of a replay batch in one transaction beside the writer."""
        if self._process is None and self._writer is None:
            raise StoreError(f"the store {str(self.path)!r} was opened read-only; nothing was replayed")
        if not items:
            return ReplayWrite()
        now = datetime.now(UTC)
        with self._beside_writer() as conn, translate_errors(), transaction(conn):
            return replays.write(conn, items, now)

    def lineage(self, record_id: str) -> Lineage | None:
        """The lineage of a record a replay wrote."""
        with translate_errors():
            return replays.lineage(self._reader(), record_id)

    def resolutions(self, failure_id: str) -> list[Resolution]:
        """A failure's resolutions, oldest first."""
        with translate_errors():
            return replays.resolutions(self._reader(), failure_id)

    def save_replay(self, run: ReplayRun) -> None:
        """Insert or replace a replay run."""
        if self._process is None and self._writer is None:
            raise StoreError(f"the store {str(self.path)!r} was opened read-only; no replay was saved")
        with self._beside_writer() as conn, translate_errors(), transaction(conn):
            replays.save(conn, run)

    def get_replay(self, replay_id: str) -> ReplayRun | None:
        """One replay run."""
        with translate_errors():
            return replays.get(self._reader(), replay_id)

    def list_replays(self, limit: int = 50, offset: int = 0) -> list[ReplayRun]:
        """Replay runs, the latest started first."""
        with translate_errors():
            return replays.every(self._reader(), limit, offset)

    def add_key(self, key: ApiKey) -> None:
        """Insert a new key (see ``keys.py``)."""
        with self._key_write() as conn:
            keys.add(conn, key)

    def list_keys(self) -> list[ApiKey]:
        """Every key, oldest first."""
        with translate_errors():
            return keys.every(self._reader())

    def find_key(self, token_hash: str) -> ApiKey | None:
        """The key with this token hash."""
        with translate_errors():
            return keys.find(self._reader(), token_hash)

    def revoke_key(self, key_id: str, at: datetime) -> ApiKey | None:
        """Revoke a key (once: a revoked key keeps its time)."""
        with self._key_write() as conn:
            return keys.revoke(conn, key_id, at)

    def query_classes(self, query: ClassQuery) -> ClassPage:
        """Failure classes matching ``query``, from the class tables alone (``class_queries.py``)."""
        with translate_errors():
            return class_queries.page(self._class_reader(), query)

    def get_class(self, class_id: str) -> FailureClass | None:
        """One failure class by id."""
        with translate_errors():
            return class_queries.one(self._class_reader(), class_id)

    def producer_activity(self, contract: str, producer: str) -> list[ProducerActivity]:
        """A producer's accepted records per version of ``contract``."""
        with translate_errors():
            return class_queries.activity(self._class_reader(), contract, producer)

    # Analytics (analytics.py, from the roll-ups of rollups.py); alerts: the flood guard's.

    def failure_analytics(self, query: FailureAnalyticsQuery) -> FailureAnalytics:
        """Failures per bucket and group, from the roll-ups alone."""
        with translate_errors():
            return analytics.failures(self._analytics_reader(), query)

    def traffic_analytics(self, window: AnalyticsWindow) -> TrafficAnalytics:
        """Traffic per contract version and producer, from the roll-ups alone."""
        with translate_errors():
            return analytics.traffic(self._analytics_reader(), window)

    def new_classes(self, since: datetime, until: datetime, limit: int) -> list[FailureClass]:
        """Classes first seen in ``[since, until)``, from the class table alone."""
        with translate_errors():
            return analytics.new_classes(self._class_reader(), since, until, limit)

    def save_alert(self, alert: Alert) -> None:
        """Store an alert once (``alerts.py``), beside the writer; the table is made on the first one."""
        if self._process is None and self._writer is None:
            raise StoreError(f"the store {str(self.path)!r} was opened read-only; no alert was stored")
        with self._beside_writer() as conn, translate_errors():
            if not getattr(self, "_alert_table", False):
                conn.executescript(alerts.SCHEMA)
                self._alert_table = True
            with transaction(conn):
                alerts.save(conn, alert)

    def list_alerts(self, since: datetime | None, limit: int) -> list[Alert]:
        """Alerts raised at or after ``since``, newest first."""
        with translate_errors():
            return alerts.listed(self._reader(), since, limit)

    def _class_reader(self) -> sqlite3.Connection:
        """The reader, once the store's classes are known complete (see ``class_migration.py``)."""
        conn = self._reader()
        if not self._classes_ready:
            class_migration.require(conn, str(self.path))
            self._classes_ready = True
        return conn

    def _analytics_reader(self) -> sqlite3.Connection:
        """The reader, once the store's roll-ups are known complete (see ``rollup_migration.py``)."""
        conn = self._class_reader()
        if not self._rollups_ready:
            rollup_migration.require(conn, str(self.path))
            self._rollups_ready = True
        return conn

    def has_keys(self) -> bool:
        """Whether any key was stored, revoked or not."""
        with translate_errors():
            return keys.any_key(self._reader())

    @contextmanager
    def _key_write(self) -> Iterator[sqlite3.Connection]:
        if self._process is None and self._writer is None:
            raise StoreError(f"the store {str(self.path)!r} was opened read-only; no key was changed")
        with self._beside_writer() as conn, translate_errors(), transaction(conn):
            yield conn

    # -- advisories (advisories.py): the advisory AI's queue and answers, apart from the failures -------

    def enqueue_advisories(self, targets: Sequence[AdvisoryTarget], at: datetime) -> int:
        """Queue a job for each target without one; how many were added. Targets with a job are found
        by a read first, so a sync that finds nothing new never takes the write lock from the gateway."""
        with translate_errors():
            new = advisories.unknown(self._reader(), targets)
        if not new:
            return 0
        with self._advisory_write() as conn:
            return advisories.enqueue(conn, new, at)

    def lease_advisory_jobs(
        self, owner: str, now: datetime, term: timedelta, limit: int
    ) -> list[AdvisoryJob]:
        """Lease due jobs to ``owner`` (one immediate transaction: no job is leased twice); an idle poll
        finds nothing due by a read, without the write lock."""
        with translate_errors():
            if not advisories.any_due(self._reader(), now):
                return []
        with self._advisory_write() as conn:
            return advisories.lease(conn, owner, now, term, limit)

    def retry_advisory_job(self, owner: str, job: AdvisoryJob, error: str, at: datetime) -> bool:
        """Queue a leased job again for ``at``."""
        with self._advisory_write() as conn:
            return advisories.retry(conn, owner, job, error, at)

    def finish_advisory_job(self, owner: str, advisory: Advisory) -> bool:
        """Store the advisory and close its job, in one transaction."""
        with self._advisory_write() as conn:
            return advisories.finish(conn, owner, advisory)

    def get_advisory_job(self, target: AdvisoryTarget) -> AdvisoryJob | None:
        """The target's job."""
        with translate_errors():
            return advisories.job_of(self._reader(), target)

    def advisory_queue(self) -> dict[str, int]:
        """Jobs per state."""
        with translate_errors():
            return advisories.depth(self._reader())

    def list_advisories(self, target: AdvisoryTarget) -> list[Advisory]:
        """The target's advisories, newest first."""
        with translate_errors():
            return advisories.of_target(self._reader(), target)

    def recent_advisory_errors(self, limit: int) -> list[Advisory]:
        """The latest advisory errors."""
        with translate_errors():
            return advisories.recent_errors(self._reader(), limit)

    @contextmanager
    def _advisory_write(self) -> Iterator[sqlite3.Connection]:
        if self._process is None and self._writer is None:
            raise StoreError(f"the store {str(self.path)!r} was opened read-only; no advisory was changed")
        with self._beside_writer() as conn, translate_errors():
            if not getattr(self, "_advisory_tables", False):
                conn.executescript(advisories.SCHEMA)
                self._advisory_tables = True
            with transaction(conn):
                yield conn

    def ping(self) -> None:
        """Raise StoreUnavailable if the database cannot be read."""
        with translate_errors():
            self._reader().execute("SELECT 1 FROM records LIMIT 1").fetchall()

    def close(self) -> None:
        """Stop the writer process, close the writer connection (readers close with their threads)."""
        if self._process is not None:
            self._process.close()
        with self._lock:
            if self._writer is not None:
                self._writer.close()
        reader: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if reader is not None:
            reader.close()
            self._local.conn = None


def _failure_filter(query: FailureFilter, field_clause: str = paths.BY_ROWID) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    conditions: list[tuple[str, Any]] = [
        ("contract = ?", query.contract),
        ("version = ?", query.version),
        ("root_cause = ?", query.root_cause.value if query.root_cause else None),
        (field_clause, query.field),
        ("received_at >= ?", micros(query.since) if query.since else None),
        ("received_at < ?", micros(query.until) if query.until else None),
    ]
    for clause, value in conditions:
        if value is not None:
            clauses.append(clause)
            params.append(value)
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), params


def _rowid(position: str | None) -> int:
    """A cursor's position as a rowid (0: before the first)."""
    if position is None:
        return 0
    if not (position.isascii() and position.isdigit() and len(position) <= 19 and int(position) < 2**63):
        raise cursor.malformed_position()
    return int(position)


def _purge_filter(
    which: FailurePurge, occurrences: bool, field_clause: str = paths.BY_ROWID
) -> tuple[str, list[Any]]:
    """The failure filter of a purge, and its last-arrival bound (``received_at`` when seen only once)."""
    where, params = _failure_filter(which, field_clause)
    if which.last_seen_before is None:
        return where, params
    last = "coalesce(last_seen, received_at)" if occurrences else "received_at"
    clause = f"{last} < ?"
    return (f"{where} AND {clause}" if where else f"WHERE {clause}"), [
        *params,
        micros(which.last_seen_before),
    ]


def _purge_batch(conn: sqlite3.Connection, where: str, params: list[Any]) -> list[str]:
    """Delete one batch of matching failures and their field index rows, in one transaction; return the
    root cause of each failure deleted (none: nothing matches any more)."""
    with transaction(conn):
        rows = conn.execute(
            "SELECT failure_id, root_cause, doc, class_id, occurrences, coalesce(last_seen, received_at), "
            f"contract_ref, received_at, rowid FROM failures {where} LIMIT ?",
            params,
        ).fetchall()
        documents = [orjson.loads(row[2]) for row in rows]
        paths.delete(
            conn, [(path, row[8]) for row, doc in zip(rows, documents, strict=True) for path in _paths(doc)]
        )
        conn.executemany("DELETE FROM failures WHERE failure_id = ?", [(row[0],) for row in rows])
        producers = [source_producers(doc.get("source") or {}) for doc in documents]
        classes.forget(
            conn,
            [(row[3], row[0], row[4], row[5], labels) for row, labels in zip(rows, producers, strict=True)],
        )
        rollups.forget(
            conn, [(row[3], row[6], row[7], labels) for row, labels in zip(rows, producers, strict=True)]
        )
    return [row[1] for row in rows]


def _paths(doc: dict[str, Any]) -> set[str]:
    """The field paths a stored failure is indexed under (``FailureRecord.fields``), from its document."""
    return {error["path"] for error in doc["errors"]}


def _failure_of(row: tuple[Any, ...]) -> FailureRecord:
    doc, count, first_us, last_us, latest = row
    record = serial.loads(FailureRecord, doc)
    repeats = (
        () if latest is None else serial.loads(tuple[Arrival, ...], b"[" + latest.replace(b"\n", b",") + b"]")
    )
    return record.with_occurrences(
        count,
        None if first_us is None else from_micros(first_us),
        None if last_us is None else from_micros(last_us),
        (record.first_arrival(), *repeats)[-MAX_LATEST:],
    )


def _has_occurrences(conn: sqlite3.Connection) -> bool:
    return "latest" in {row[1] for row in conn.execute("PRAGMA table_info(failures)")}


def _migrate(conn: sqlite3.Connection) -> None:
    """Give a store made before failures kept their occurrences the columns for them: every failure
    stored so far reads as seen once (the columns' defaults), which is all that was recorded. Takes the
    write lock only when there is something to add, so opening a current store never waits on a writer."""
    if _has_occurrences(conn):
        return
    with transaction(conn):  # two processes opening one old store: the second finds the columns there
        present = {row[1] for row in conn.execute("PRAGMA table_info(failures)")}
        for name, kind in _OCCURRENCE_COLUMNS.items():
            if name not in present:
                conn.execute(f"ALTER TABLE failures ADD COLUMN {name} {kind}")


def _raw_of(doc: bytes) -> RawPayload:
    return serial.load(RawPayload, orjson.loads(doc)["raw"])


class _InProcess:
    """A write the writer process is doing."""

    def __init__(self, process: WriterProcess, rows: Rows) -> None:
        self._process = process
        self._rows = rows
        self._report: WriteReport | None = None

    def result(self) -> WriteReport:
        """Wait for the commit (once; later calls repeat the report)."""
        if self._report is None:
            self._report = report(self._rows, self._process.receive())
        return self._report

    def fileno(self) -> int | None:
        """The writer's answer pipe until the report is read; then None."""
        return self._process.answer_fileno() if self._report is None else None


@contextmanager
def translate_errors() -> Iterator[None]:
    """Turn sqlite3 exceptions into the store's own errors at the boundary."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        raise StoreUnavailable(f"SQLite: {exc}") from exc
    except sqlite3.Error as exc:
        raise StoreError(f"SQLite: {exc}") from exc


def _rows(records: Sequence[AcceptedRecord], failures: Sequence[FailureRecord]) -> Rows:
    """The rows of a write, its records' headers taken out (``metadata.py``, ``rows.py``)."""
    parts = metadata.split(records, failures)
    return rows_of(parts.records, parts.failures, parts.headers)
