"""What is specific to the SQLite store: the file, its URL, WAL, concurrent writers, atomic writes, errors.

The behaviour every store shares is in test_conformance.py; these tests build their own stores, and their
records with store_support.py, so they do not depend on that suite's fixtures.
"""

import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigma_aetl.errors import ConfigError, StoreError, StoreUnavailable
from sigma_aetl.stores import open_store
from sigma_aetl.stores.base import FailureQuery, RecordQuery, WriteReport, micros
from sigma_aetl.stores.sqlite import store as sqlite_store_module
from sigma_aetl.stores.sqlite import stream as stream_module
from sigma_aetl.stores.sqlite.rows import Rows
from sigma_aetl.stores.sqlite.store import SqliteStore, WriterMode
from sigma_aetl.testing import wait_until
from store_support import T0, accepted, count, failure

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CONCURRENT_IDS = 120


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """Where this test's database file lives."""
    return tmp_path / "store.db"


@pytest.fixture
def sqlite(db: Path) -> Iterator[SqliteStore]:
    """A SQLite store on this test's file."""
    store = SqliteStore(db, writer="inline")
    yield store
    store.close()


def test_file_and_parent_directories_are_created(tmp_path: Path) -> None:
    """Opening a store creates the database file and any missing parent directories."""
    path = tmp_path / "a" / "b" / "gateway.db"
    store = SqliteStore(path, writer="inline")
    try:
        assert path.is_file()
        assert count(path, "records") == 0
        assert count(path, "failures") == 0
    finally:
        store.close()


def test_wal_journal_mode_is_on(sqlite: SqliteStore, db: Path) -> None:
    """The database runs in WAL mode, so readers never block the writer."""
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_reopening_keeps_the_data(db: Path) -> None:
    """A store reopened on the same file sees what was written before."""
    first = SqliteStore(db, writer="inline")
    first.write([accepted("A")], [failure("F")])
    first.close()
    second = SqliteStore(db, writer="inline")
    try:
        assert second.get_record(accepted("A").record_id) == accepted("A")
        assert second.get_failure(failure("F").failure_id) == failure("F")
    finally:
        second.close()


def test_relative_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """sqlite:///relative.db is relative to the working directory."""
    monkeypatch.chdir(tmp_path)
    store = SqliteStore.from_url("sqlite:///data/x.db")
    try:
        assert store.path == Path("data/x.db")
        assert (tmp_path / "data" / "x.db").is_file()
    finally:
        store.close()


def test_absolute_url(tmp_path: Path) -> None:
    """sqlite:////absolute.db (four slashes) is an absolute path."""
    url = f"sqlite:///{tmp_path}/abs.db"
    assert url.startswith("sqlite:////")
    store = SqliteStore.from_url(url)
    try:
        assert store.path == tmp_path / "abs.db"
        assert store.path.is_file()
    finally:
        store.close()


@pytest.mark.parametrize(("option", "level"), [("", 2), ("synchronous=NORMAL&", 1), ("synchronous=off&", 0)])
def test_synchronous_option(tmp_path: Path, option: str, level: int) -> None:
    """?synchronous= sets SQLite's synchronous level (any case); FULL is the default. (The writer process
    connects with the same pragmas; the in-process writer shows them.)"""
    store = SqliteStore.from_url(f"sqlite:///{tmp_path}/s.db?{option}writer=inline")
    try:
        assert store._writer is not None
        assert store._writer.execute("PRAGMA synchronous").fetchone()[0] == level
    finally:
        store.close()


@pytest.mark.parametrize(
    "url",
    [
        "sqlite://relative.db",
        "sqlite:/x.db",
        "sqlite:///x.db?synchronous=SOMETIMES",
        "sqlite:///x.db?mode=ro",
        "sqlite:///x.db?synchronous=FULL&cache=shared",
    ],
)
def test_bad_urls_are_config_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    """A malformed SQLite URL or an unsupported option is a ConfigError, and no file is created."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError):
        SqliteStore.from_url(url)
    assert list(tmp_path.iterdir()) == []


def test_open_store_picks_sqlite_and_refuses_unknown_schemes(tmp_path: Path) -> None:
    """open_store() opens sqlite URLs and names the supported schemes for anything else."""
    store = open_store(f"sqlite:///{tmp_path}/o.db")
    try:
        assert isinstance(store, SqliteStore)
    finally:
        store.close()
    with pytest.raises(ConfigError, match="sqlite://"):
        open_store("postgres://localhost/db")


def test_write_reports_new_and_existing(sqlite: SqliteStore) -> None:
    """A write reports which ids were new and which existed, with the stored content hash."""
    first = sqlite.write([accepted("A"), accepted("B")], [failure("F")])
    assert first.new_records == {accepted("A").record_id, accepted("B").record_id}
    assert first.new_failures == {failure("F").failure_id}
    assert (first.existing_records, first.existing_failures) == ({}, set())
    second = sqlite.write([accepted("A", destination="Galway"), accepted("C")], [failure("F"), failure("G")])
    assert second.new_records == {accepted("C").record_id}
    assert second.existing_records == {accepted("A").record_id: accepted("A").content_hash}
    assert second.new_failures == {failure("G").failure_id}
    assert second.existing_failures == {failure("F").failure_id}
    stored = sqlite.get_record(accepted("A").record_id)
    assert stored is not None
    assert stored.data["destination"] == "Cork"


def test_one_id_twice_in_one_write_is_stored_once(sqlite: SqliteStore, db: Path) -> None:
    """Two records with one id in the same write store the first and do not fail."""
    report = sqlite.write([accepted("A"), accepted("A", destination="Galway")], [failure("F"), failure("F")])
    assert report.new_records == {accepted("A").record_id}
    assert count(db, "records") == 1
    assert count(db, "failures") == 1
    assert count(db, "failure_paths") == 1
    stored = sqlite.get_record(accepted("A").record_id)
    assert stored is not None
    assert stored.data["destination"] == "Cork"


def test_large_writes_are_looked_up_in_chunks(sqlite: SqliteStore, db: Path) -> None:
    """More ids than one lookup holds are all found existing on a rewrite."""
    records = [accepted(f"S{i}") for i in range(1_200)]
    assert len(sqlite.write(records, []).new_records) == 1_200
    again = sqlite.write(records, [])
    assert again.new_records == set()
    assert len(again.existing_records) == 1_200
    assert count(db, "records") == 1_200


def test_concurrent_writers_on_one_file_store_each_id_once(db: Path) -> None:
    """Two stores on one file written by many threads at once store each id once, reported new once."""
    stores = [SqliteStore(db, writer="inline"), SqliteStore(db, writer="inline")]
    records = [accepted(f"S{i}") for i in range(CONCURRENT_IDS)]
    failures = [failure(f"K{i}") for i in range(CONCURRENT_IDS)]
    workers = 8
    barrier = threading.Barrier(workers)
    reports: list[WriteReport] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(index: int) -> None:
        store = stores[index % 2]
        # each worker writes every id, in batches that overlap the others' differently
        order = records[index:] + records[:index]
        fails = failures[-index:] + failures[:-index] if index else failures
        try:
            barrier.wait()
            for start in range(0, CONCURRENT_IDS, 10):
                report = store.write(order[start : start + 10], fails[start : start + 10])
                with lock:
                    reports.append(report)
        except BaseException as exc:  # noqa: BLE001 - collected, and the test asserts there are none
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for store in stores:
        store.close()
    assert not any(thread.is_alive() for thread in threads), "a writer was still writing after 60 s"
    assert errors == []
    assert count(db, "records") == CONCURRENT_IDS
    assert count(db, "failures") == CONCURRENT_IDS
    new_records = [rid for report in reports for rid in report.new_records]
    new_failures = [fid for report in reports for fid in report.new_failures]
    assert sorted(new_records) == sorted(r.record_id for r in records)
    assert sorted(new_failures) == sorted(f.failure_id for f in failures)
    existing = sum(len(report.existing_records) for report in reports)
    assert existing == workers * CONCURRENT_IDS - CONCURRENT_IDS


def test_reads_work_from_other_threads(sqlite: SqliteStore) -> None:
    """Each thread reads with its own connection and sees committed writes."""
    sqlite.write([accepted("A")], [])
    seen: list[object] = []
    thread = threading.Thread(target=lambda: seen.append(sqlite.get_record(accepted("A").record_id)))
    thread.start()
    thread.join()
    assert seen == [accepted("A")]


def test_a_write_failing_midway_leaves_nothing(sqlite: SqliteStore, db: Path) -> None:
    """When SQLite aborts the last insert of a write, the records inserted before it are rolled back."""
    with sqlite3.connect(db) as conn:
        conn.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON failures WHEN NEW.failure_id = ? "
            "BEGIN SELECT RAISE(ABORT, 'refused by test'); END".replace("?", f"'{failure('BAD').failure_id}'")
        )
    with pytest.raises(StoreError, match="refused by test") as caught:
        sqlite.write([accepted("A"), accepted("B")], [failure("OK"), failure("BAD")])
    assert isinstance(caught.value.__cause__, sqlite3.Error)
    assert [count(db, table) for table in ("records", "failures", "failure_paths")] == [0, 0, 0]
    with sqlite3.connect(db) as conn:
        conn.execute("DROP TRIGGER refuse")
    report = sqlite.write([accepted("A"), accepted("B")], [failure("OK"), failure("BAD")])
    assert len(report.new_records) == 2
    assert len(report.new_failures) == 2


def test_an_exception_midway_rolls_back(
    sqlite: SqliteStore, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An I/O error after the records were inserted rolls them back and surfaces as StoreUnavailable."""

    def broken(conn: sqlite3.Connection, rows: Rows) -> None:
        conn.executemany("INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?)", rows.records)
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(sqlite_store_module, "apply", broken)
    with pytest.raises(StoreUnavailable, match="disk I/O error"):
        sqlite.write([accepted("A")], [failure("F")])
    assert count(db, "records") == 0
    monkeypatch.undo()
    assert sqlite.write([accepted("A")], [failure("F")]).new_records == {accepted("A").record_id}


@pytest.mark.parametrize("writer", ["inline", "process"])
def test_a_locked_database_is_unavailable(db: Path, writer: WriterMode) -> None:
    """A writer (in-process or the writer process) that cannot get the lock in time gets StoreUnavailable
    (safe to retry), not sqlite3's error; the next write, once the lock is free, succeeds."""
    store = SqliteStore(db, timeout=0.05, writer=writer)
    blocker = sqlite3.connect(db, isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreUnavailable, match="locked"):
            store.write([accepted("A")], [])
        blocker.execute("ROLLBACK")
        assert store.write([accepted("A")], []).new_records == {accepted("A").record_id}
    finally:
        blocker.close()
        store.close()


def test_a_directory_path_is_unavailable(tmp_path: Path) -> None:
    """A database path that cannot be opened raises StoreUnavailable, not sqlite3.OperationalError."""
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(StoreUnavailable) as caught:
        SqliteStore(tmp_path / "dir.db", writer="inline")
    assert isinstance(caught.value.__cause__, sqlite3.OperationalError)


def test_a_file_that_is_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    """A file that is not SQLite raises StoreError, not sqlite3.DatabaseError."""
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not a database, just some bytes " * 100)
    with pytest.raises(StoreError) as caught:
        SqliteStore(path, writer="inline")
    assert isinstance(caught.value.__cause__, sqlite3.DatabaseError)


def test_using_a_closed_store_is_a_store_error(db: Path) -> None:
    """Writing after close() raises StoreError wrapping sqlite3's error, not the bare sqlite3 exception."""
    store = SqliteStore(db, writer="inline")
    store.close()
    with pytest.raises(StoreError) as caught:
        store.write([accepted("A")], [])
    assert isinstance(caught.value.__cause__, sqlite3.ProgrammingError)


def test_ping_on_a_healthy_store(sqlite: SqliteStore) -> None:
    """ping() returns quietly when the database can be read."""
    sqlite.ping()


def test_ping_on_a_damaged_store_is_unavailable(sqlite: SqliteStore, db: Path) -> None:
    """ping() raises StoreUnavailable when the tables it reads are gone."""
    with sqlite3.connect(db) as conn:
        conn.execute("DROP TABLE records")
    with pytest.raises(StoreUnavailable):
        sqlite.ping()


# Hypothesis takes naive bounds (it adds a timezone only when asked to), and naive inputs are the point here.
NAIVE_MOMENTS = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1))  # noqa: DTZ001


@settings(max_examples=300, deadline=None)
@given(moment=NAIVE_MOMENTS)
def test_micros_is_exact(moment: datetime) -> None:
    """Stored timestamps are exact integer microseconds since the epoch; naive times are UTC."""
    aware = moment.replace(tzinfo=UTC)
    expected = (aware - EPOCH) // timedelta(microseconds=1)
    assert micros(aware) == expected
    assert micros(moment) == expected


def test_micros_of_other_time_zones() -> None:
    """An aware time in another zone is stored as the same instant in UTC."""
    dublin_summer = timezone(timedelta(hours=1))
    assert micros(datetime(2024, 5, 1, 13, tzinfo=dublin_summer)) == micros(T0)
    assert micros(EPOCH + timedelta(microseconds=1)) == 1


def test_time_filters_are_exact_to_the_microsecond(sqlite: SqliteStore, db: Path) -> None:
    """The stored receive time is the exact microsecond; `since` is inclusive and `until` exclusive."""
    at = datetime(2005, 4, 17, 8, 29, 2, 646319, tzinfo=UTC)  # timestamp() * 1e6 would truncate to ...318
    sqlite.write([], [failure("F", at=at)])
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT received_at FROM failures").fetchone()[0] == 1113726542646319
    just_after = at + timedelta(microseconds=1)
    assert sqlite.query_failures(FailureQuery(until=just_after)).total == 1
    assert sqlite.query_failures(FailureQuery(since=at)).total == 1
    assert sqlite.query_failures(FailureQuery(since=just_after)).total == 0
    assert sqlite.query_failures(FailureQuery(until=at)).total == 0


def test_failure_fields_are_indexed_per_path(sqlite: SqliteStore, db: Path) -> None:
    """Each distinct error path of a failure is indexed once, for the field filter."""
    sqlite.write([], [failure("F", path="weight_kg"), failure("G", path="priority")])
    assert count(db, "failure_paths") == 2
    page = sqlite.query_failures(FailureQuery(field="weight_kg"))
    assert [item.failure_id for item in page.items] == [failure("F").failure_id]


# -- the records stream: commit order ------------------------------------------------------------------


def test_a_tailing_reader_sees_concurrent_writers_records_exactly_once(db: Path) -> None:
    """While two stores on one file write from several threads, a reader that resumes from each page's cursor
    sees every record exactly once: a commit after its read never lands behind its cursor."""
    writers = [SqliteStore(db, writer="inline"), SqliteStore(db, writer="inline")]
    reader = SqliteStore(db, writer="none")
    batches = [[accepted(f"T{t}-{n}") for n in range(5 * b, 5 * b + 5)] for t in range(4) for b in range(10)]
    seen: list[str] = []
    position: list[str | None] = [None]

    def write(index: int) -> None:
        for batch in batches[index * 10 : index * 10 + 10]:
            writers[index % 2].write(batch, [])

    def tail() -> bool:
        page = reader.query_records(RecordQuery(contract="shipment", version=1, limit=3, cursor=position[0]))
        seen.extend(r.record_id for r in page.items)
        position[0] = page.resume_cursor
        return len(seen) >= 200

    threads = [threading.Thread(target=write, args=(i,)) for i in range(4)]
    try:
        for thread in threads:
            thread.start()
        wait_until(tail, 60, "the reader to see all 200 records", poll=0.001)
        for thread in threads:
            thread.join(timeout=30)
    finally:
        for store in [*writers, reader]:
            store.close()
    assert sorted(seen) == sorted(r.record_id for batch in batches for r in batch)


@pytest.mark.parametrize(
    ("filters", "plan"),
    [
        (
            {"contract": "shipment", "version": 1},
            "USING INDEX records_version (contract=? AND version=? AND rowid>?)",
        ),
        ({"contract": "shipment", "version": 1, "since": T0}, "USING INDEX records_version"),
        ({}, "USING INTEGER PRIMARY KEY (rowid>?)"),
        ({"version": 1, "until": T0}, "USING INTEGER PRIMARY KEY (rowid>?)"),
    ],
)
def test_record_pages_walk_an_index_in_rowid_order(
    sqlite: SqliteStore, filters: dict[str, object], plan: str
) -> None:
    """Each page seeks to its cursor along an index in rowid order: no sort, no scan from the start."""
    query = RecordQuery.model_validate(filters)
    where, params = stream_module.record_filter(query.contract, query.version, query)
    sql = f"EXPLAIN QUERY PLAN SELECT rowid, doc FROM records WHERE rowid > ? {where} ORDER BY rowid LIMIT ?"
    with sqlite3.connect(sqlite.path) as conn:
        steps = [row[3] for row in conn.execute(sql, [0, *params, 10])]
    assert len(steps) == 1, steps
    assert plan in steps[0]


def test_a_read_only_store_streams_records(db: Path) -> None:
    """The records stream needs no writer: a store opened read-only reads it."""
    writer = SqliteStore(db, writer="inline")
    writer.write([accepted("A"), accepted("B")], [])
    writer.close()
    reader = open_store(f"sqlite:///{db}", read_only=True)
    try:
        assert [r.record_id for r in reader.query_records(RecordQuery()).items] == [
            accepted("A").record_id,
            accepted("B").record_id,
        ]
    finally:
        reader.close()
