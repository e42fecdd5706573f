"""The embedded default store: one SQLite file, WAL mode, batched transactions.

Unique primary keys on ``record_id`` and ``failure_id`` make every write idempotent. A write runs in one
``BEGIN IMMEDIATE`` transaction: it looks up which ids exist, inserts the rest, and commits — so the report
of what was new is exact even with several writers on one file. Reads use one connection per thread.
"""

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

import orjson

from sigma_aetl.core import serial
from sigma_aetl.core.records import AcceptedRecord, FailureRecord, RawPayload
from sigma_aetl.errors import ConfigError, StoreError, StoreUnavailable
from sigma_aetl.stores.base import FailurePage, FailureQuery, Stats, StoredPayload, WriteReport, micros

_R = TypeVar("_R", AcceptedRecord, FailureRecord)
Synchronous = Literal["OFF", "NORMAL", "FULL", "EXTRA"]

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
CREATE INDEX IF NOT EXISTS records_received ON records (received_at DESC);
CREATE INDEX IF NOT EXISTS records_contract ON records (contract, version, record_id);
CREATE TABLE IF NOT EXISTS failures (
    failure_id   TEXT PRIMARY KEY,
    contract_ref TEXT NOT NULL,
    contract     TEXT,
    version      INTEGER,
    root_cause   TEXT NOT NULL,
    stage        TEXT NOT NULL,
    received_at  INTEGER NOT NULL,
    doc          BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS failures_received ON failures (received_at DESC);
CREATE INDEX IF NOT EXISTS failures_contract ON failures (contract, version, received_at DESC);
CREATE INDEX IF NOT EXISTS failures_cause ON failures (root_cause, received_at DESC);
CREATE INDEX IF NOT EXISTS failures_contract_id ON failures (contract, version, failure_id);
CREATE TABLE IF NOT EXISTS failure_fields (
    path       TEXT NOT NULL,
    failure_id TEXT NOT NULL,
    PRIMARY KEY (path, failure_id)
) WITHOUT ROWID;
"""

_WRITER_CACHE_KIB = 65_536  # the writer's page cache: 64 MiB
_READER_CACHE_KIB = 8_192  # each reader thread's: 8 MiB
_CHUNK = 500  # ids per IN (...) lookup, well under SQLite's bound-parameter limit


class SqliteStore:
    """A :class:`~sigma_aetl.stores.base.Store` on one SQLite file."""

    def __init__(self, path: Path, *, synchronous: Synchronous = "FULL", timeout: float = 30.0) -> None:
        self.path = path
        self._synchronous = synchronous
        self._timeout = timeout
        if str(path) == ":memory:":
            raise ConfigError("an in-memory SQLite store cannot be shared between threads; use a file")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create the directory for {str(path)!r}: {exc.strerror}") from exc
        self._lock = threading.Lock()
        self._local = threading.local()
        self._writer = self._connect(_WRITER_CACHE_KIB)
        with translate_errors():
            self._writer.executescript(_SCHEMA)

    @classmethod
    def from_url(cls, url: str) -> "SqliteStore":
        """``sqlite:///relative.db`` or ``sqlite:////absolute.db``, optionally ``?synchronous=NORMAL``."""
        if not url.startswith("sqlite:///"):
            raise ConfigError(f"a SQLite URL looks like sqlite:///path.db, not {url!r}")
        path, _, query = url.removeprefix("sqlite:///").partition("?")
        options = dict(part.partition("=")[::2] for part in query.split("&") if part)
        synchronous = options.pop("synchronous", "FULL").upper()
        if options or synchronous not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ConfigError(
                f"unsupported SQLite URL options in {url!r}; only synchronous=OFF|NORMAL|FULL|EXTRA"
            )
        return cls(Path(path), synchronous=cast(Synchronous, synchronous))

    def _connect(self, cache_kib: int = _READER_CACHE_KIB) -> sqlite3.Connection:
        with translate_errors():
            conn = sqlite3.connect(
                self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={self._synchronous}")
            # ids are hashes, so index inserts land on random pages: at millions of rows the default
            # 2 MiB page cache misses on almost every insert
            conn.execute(f"PRAGMA cache_size=-{cache_kib}")
        return conn

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    def write(self, records: Sequence[AcceptedRecord], failures: Sequence[FailureRecord]) -> WriteReport:
        """Store every record and failure whose id is new, in one transaction."""
        report = WriteReport()
        if not records and not failures:
            return report
        with self._lock, translate_errors(), _transaction(self._writer) as conn:
            self._write_records(conn, records, report)
            self._write_failures(conn, failures, report)
        return report

    def _write_records(
        self, conn: sqlite3.Connection, records: Sequence[AcceptedRecord], report: WriteReport
    ) -> None:
        ids = [record.record_id for record in records]
        report.existing_records = dict(
            _lookup(conn, "SELECT record_id, content_hash FROM records", "record_id", ids)
        )
        fresh = _unique(r for r in records if r.record_id not in report.existing_records)
        conn.executemany(
            "INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    r.record_id,
                    r.contract,
                    r.version,
                    r.fingerprint,
                    r.content_hash,
                    micros(r.received_at),
                    _doc(r),
                )
                for r in fresh
            ],
        )
        report.new_records = {r.record_id for r in fresh}

    def _write_failures(
        self, conn: sqlite3.Connection, failures: Sequence[FailureRecord], report: WriteReport
    ) -> None:
        ids = [failure.failure_id for failure in failures]
        report.existing_failures = {
            row[0] for row in _lookup(conn, "SELECT failure_id FROM failures", "failure_id", ids)
        }
        fresh = _unique(f for f in failures if f.failure_id not in report.existing_failures)
        conn.executemany(
            "INSERT INTO failures VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    f.failure_id,
                    f.contract_ref,
                    f.contract,
                    f.version,
                    f.root_cause.value,
                    f.stage.value,
                    micros(f.received_at),
                    _doc(f),
                )
                for f in fresh
            ],
        )
        conn.executemany(
            "INSERT INTO failure_fields VALUES (?, ?)",
            [(path, f.failure_id) for f in fresh for path in f.fields],
        )
        report.new_failures = {f.failure_id for f in fresh}

    def get_record(self, record_id: str) -> AcceptedRecord | None:
        """One accepted record by id."""
        with translate_errors():
            row = (
                self._reader().execute("SELECT doc FROM records WHERE record_id = ?", (record_id,)).fetchone()
            )
        return serial.loads(AcceptedRecord, row[0]) if row else None

    def get_failure(self, failure_id: str) -> FailureRecord | None:
        """One failure record by id."""
        with translate_errors():
            row = (
                self._reader()
                .execute("SELECT doc FROM failures WHERE failure_id = ?", (failure_id,))
                .fetchone()
            )
        return serial.loads(FailureRecord, row[0]) if row else None

    def query_failures(self, query: FailureQuery) -> FailurePage:
        """Failures matching the filters, newest first, one page at a time."""
        where, params = _failure_filter(query)
        with translate_errors():
            conn = self._reader()
            total = conn.execute(f"SELECT count(*) FROM failures {where}", params).fetchone()[0]
            rows = conn.execute(
                f"SELECT doc FROM failures {where} ORDER BY received_at DESC, failure_id DESC "
                "LIMIT ? OFFSET ?",
                [*params, query.limit, query.offset],
            ).fetchall()
        items = [serial.loads(FailureRecord, row[0]) for row in rows]
        return FailurePage(items=items, total=total, limit=query.limit, offset=query.offset)

    def stats(self) -> Stats:
        """Counts per contract version and per root cause."""
        with translate_errors():
            conn = self._reader()
            accepted = conn.execute(
                "SELECT contract || '@' || version, count(*) FROM records GROUP BY 1"
            ).fetchall()
            by_ref = conn.execute("SELECT contract_ref, count(*) FROM failures GROUP BY 1").fetchall()
            by_cause = conn.execute("SELECT root_cause, count(*) FROM failures GROUP BY 1").fetchall()
        return Stats(
            accepted_total=sum(n for _, n in accepted),
            failures_total=sum(n for _, n in by_ref),
            accepted_by_contract=dict(sorted(accepted)),
            failures_by_contract=dict(sorted(by_ref)),
            failures_by_root_cause=dict(sorted(by_cause)),
        )

    def raw_payloads(
        self, contract: str, version: int, *, batch_size: int = 500
    ) -> Iterator[list[StoredPayload]]:
        """Raw payloads of ``contract@version``: records, then failures, in id order (keyset paging)."""
        yield from self._payloads("records", "record_id", contract, version, batch_size)
        yield from self._payloads("failures", "failure_id", contract, version, batch_size)

    def _payloads(
        self, table: Literal["records", "failures"], key: str, contract: str, version: int, size: int
    ) -> Iterator[list[StoredPayload]]:
        kind: Literal["record", "failure"] = "record" if table == "records" else "failure"
        select = f"SELECT {key}, doc FROM {table} WHERE contract = ? AND version = ? AND {key} > ? "
        last = ""
        while True:
            with translate_errors():
                rows = self._reader().execute(
                    f"{select} ORDER BY {key} LIMIT ?", (contract, version, last, size)
                )
                batch = [StoredPayload(kind, row[0], _raw_of(row[1])) for row in rows.fetchall()]
            if not batch:
                return
            yield batch
            last = batch[-1].id

    def ping(self) -> None:
        """Raise StoreUnavailable if the database cannot be read."""
        with translate_errors():
            self._reader().execute("SELECT 1 FROM records LIMIT 1").fetchall()

    def close(self) -> None:
        """Close the writer connection (reader connections close with their threads)."""
        with self._lock:
            self._writer.close()
        reader: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if reader is not None:
            reader.close()
            self._local.conn = None


def _failure_filter(query: FailureQuery) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    conditions: list[tuple[str, Any]] = [
        ("contract = ?", query.contract),
        ("version = ?", query.version),
        ("root_cause = ?", query.root_cause.value if query.root_cause else None),
        ("failure_id IN (SELECT failure_id FROM failure_fields WHERE path = ?)", query.field),
        ("received_at >= ?", micros(query.since) if query.since else None),
        ("received_at < ?", micros(query.until) if query.until else None),
    ]
    for clause, value in conditions:
        if value is not None:
            clauses.append(clause)
            params.append(value)
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), params


def _lookup(conn: sqlite3.Connection, select: str, column: str, ids: list[str]) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start : start + _CHUNK]
        marks = ",".join("?" * len(chunk))
        rows.extend(conn.execute(f"{select} WHERE {column} IN ({marks})", chunk).fetchall())
    return rows


def _unique(items: Iterable[_R]) -> list[_R]:
    by_id: dict[str, _R] = {}
    for item in items:
        key = item.record_id if isinstance(item, AcceptedRecord) else item.failure_id
        by_id.setdefault(key, item)
    return list(by_id.values())


def _raw_of(doc: bytes) -> RawPayload:
    return serial.load(RawPayload, orjson.loads(doc)["raw"])


def _doc(record: AcceptedRecord | FailureRecord) -> bytes:
    return serial.dumps(record)


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:  # a failed COMMIT leaves the transaction open; never leave it dangling
            conn.execute("ROLLBACK")
        raise


@contextmanager
def translate_errors() -> Iterator[None]:
    """Turn sqlite3 exceptions into the store's own errors at the boundary."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        raise StoreUnavailable(f"SQLite: {exc}") from exc
    except sqlite3.Error as exc:
        raise StoreError(f"SQLite: {exc}") from exc
