"""SQLite specifics of occurrences and purges: stores made before occurrences existed, rows behind them."""

import sqlite3
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import orjson
import pytest

from sigma_aetl.core.ids import failure_id, raw_identity
from sigma_aetl.core.records import FailureRecord, written_json
from sigma_aetl.stores import open_store
from sigma_aetl.stores.base import FailurePurge, FailureQuery
from sigma_aetl.stores.sqlite import paths
from sigma_aetl.stores.sqlite.store import SqliteStore, WriterMode
from store_support import T0, count, failure

OLD_FAILURES = """
CREATE TABLE failures (
    failure_id   TEXT PRIMARY KEY,
    contract_ref TEXT NOT NULL,
    contract     TEXT,
    version      INTEGER,
    root_cause   TEXT NOT NULL,
    stage        TEXT NOT NULL,
    received_at  INTEGER NOT NULL,
    doc          BLOB NOT NULL
);
CREATE TABLE records (
    record_id TEXT PRIMARY KEY, contract TEXT NOT NULL, version INTEGER NOT NULL, fingerprint TEXT NOT NULL,
    content_hash TEXT NOT NULL, received_at INTEGER NOT NULL, doc BLOB NOT NULL
);
CREATE TABLE failure_fields (path TEXT NOT NULL, failure_id TEXT NOT NULL, PRIMARY KEY (path, failure_id))
    WITHOUT ROWID;
"""
"""The failure table as stores made before occurrences were kept had it."""


def raw_failure(key: str = "F") -> FailureRecord:
    """A shipment@1 failure identified by its bytes (``key``, as bytes)."""
    base = failure(key)
    identity = failure_id("shipment", "1", raw_identity(base.raw.to_bytes()))
    return replace(
        base, failure_id=identity, identified_by="raw", source={"kind": "http", "request_id": "first"}
    )


def old_store(db: Path, stored: FailureRecord) -> None:
    """A store in the layout of before occurrences, holding ``stored`` as that code wrote it."""
    document = orjson.loads(written_json(stored))
    del document["identified_by"]  # not recorded then
    with sqlite3.connect(db) as conn:
        conn.executescript(OLD_FAILURES)
        conn.execute(
            "INSERT INTO failures VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                stored.failure_id,
                "shipment@1",
                "shipment",
                1,
                "missing_field",
                "schema",
                0,
                orjson.dumps(document),
            ),
        )
        conn.execute("INSERT INTO failure_fields VALUES ('priority', ?)", (stored.failure_id,))
    conn.close()


def an_old_store(tmp_path: Path) -> tuple[Path, FailureRecord]:
    """The path of an old-layout store (see :func:`old_store`) in ``tmp_path``, and the failure it holds."""
    db = tmp_path / "old.db"
    first = replace(raw_failure(), identified_by=None)
    old_store(db, first)
    return db, first


def columns(db: Path) -> list[str]:
    """The failure table's columns, in order."""
    with sqlite3.connect(db) as conn:
        found = [row[1] for row in conn.execute("PRAGMA table_info(failures)")]
    conn.close()
    return found


def test_an_old_store_gains_the_occurrence_columns_and_counts_on(tmp_path: Path) -> None:
    """A store made before occurrences opens, gains their columns, reads its failures as seen once, and
    counts a new arrival of one from its own first arrival."""
    db, first = an_old_store(tmp_path)
    store = open_store(f"sqlite:///{db}")
    try:
        assert columns(db)[-5:] == ["occurrences", "first_seen", "last_seen", "latest", "class_id"]
        stored = store.get_failure(first.failure_id)
        assert stored is not None
        assert stored.identified_by is None
        assert stored.occurrences is not None
        assert stored.occurrences.count == 1
        again = replace(raw_failure(), received_at=T0 + timedelta(hours=1), source={"kind": "http", "n": 2})
        store.write([], [again])
        seen = store.get_failure(first.failure_id)
        assert seen is not None
        assert seen.occurrences is not None
        assert seen.occurrences.count == 2
        assert [a.source for a in seen.occurrences.latest] == [first.source, again.source]
        assert store.stats().failure_occurrences_total == 2
    finally:
        store.close()


def test_an_old_store_opened_read_only_is_read_as_it_is(tmp_path: Path) -> None:
    """Opened read-only, a store made before occurrences is left as it is; its failures read as seen once."""
    db, first = an_old_store(tmp_path)
    reader = open_store(f"sqlite:///{db}", read_only=True)
    try:
        stored = reader.get_failure(first.failure_id)
        assert stored is not None
        assert stored.occurrences is not None
        assert stored.occurrences.count == 1
        stats = reader.stats()
        assert (stats.failures_total, stats.failure_occurrences_total) == (1, 1)
        assert reader.count_failures(FailurePurge(last_seen_before=T0 + timedelta(days=1))).deleted == 1
    finally:
        reader.close()
    assert "occurrences" not in columns(db)


def test_a_failure_seen_once_stores_no_occurrence_data(tmp_path: Path) -> None:
    """A failure that arrived once keeps only its count beside its document: no first, last or latest; one
    that arrived twice keeps the second arrival (the first is its document's) as one JSON line."""
    store = SqliteStore(tmp_path / "store.db", writer="inline")
    try:
        store.write([], [raw_failure("A"), failure("B"), failure("B")])
        store.write([], [raw_failure("C"), raw_failure("C")])
    finally:
        store.close()
    with sqlite3.connect(tmp_path / "store.db") as conn:
        rows = conn.execute("SELECT occurrences, first_seen IS NULL, latest IS NULL FROM failures").fetchall()
    conn.close()
    assert sorted(rows) == [(1, 1, 1), (1, 1, 1), (2, 0, 0)]
    with sqlite3.connect(tmp_path / "store.db") as conn:
        [(latest,)] = conn.execute("SELECT latest FROM failures WHERE latest IS NOT NULL").fetchall()
    conn.close()
    assert orjson.loads(latest) == {"received_at": "2024-05-01T12:00:00Z", "source": raw_failure("C").source}


@pytest.mark.parametrize("writer", ["inline", "process"])
def test_a_purge_deletes_the_field_index_rows(tmp_path: Path, writer: WriterMode) -> None:
    """Purging deletes each failure's field index rows with it, beside the writer process or inline."""
    db = tmp_path / "store.db"
    store = SqliteStore(db, writer=writer)
    try:
        store.write([], [failure("A", path="priority"), failure("B", path="weight_kg"), raw_failure("C")])
        report = store.purge_failures(FailurePurge(field="priority"), batch_size=1)
        assert report.deleted == 2
        store.write([], [failure("D")])  # the writer goes on after the purge
    finally:
        store.close()
    assert (count(db, "failures"), count(db, "failure_paths")) == (2, 2)


def test_an_old_store_moves_its_field_index_to_failure_rowids(tmp_path: Path) -> None:
    """Opened for writing, a store with the id-keyed field index moves it to rowid keys once; the field
    filter still finds the old failure, and finds a new one beside it."""
    db, first = an_old_store(tmp_path)
    store = open_store(f"sqlite:///{db}")
    try:
        store.write([], [failure("N", path="priority")])
        found = store.query_failures(FailureQuery(field="priority"))
        assert sorted(item.failure_id for item in found.items) == sorted(
            [first.failure_id, failure("N", path="priority").failure_id]
        )
    finally:
        store.close()
    assert (count(db, "failure_paths"), _tables(db) & {"failure_fields"}) == (2, set())


def test_an_old_store_opened_read_only_filters_by_field_through_its_old_index(tmp_path: Path) -> None:
    """Opened read-only, a store with the id-keyed field index keeps it, and the field filter reads it."""
    db, first = an_old_store(tmp_path)
    reader = open_store(f"sqlite:///{db}", read_only=True)
    try:
        found = reader.query_failures(FailureQuery(field="priority"))
        assert [item.failure_id for item in found.items] == [first.failure_id]
        assert reader.query_failures(FailureQuery(field="weight_kg")).total == 0
    finally:
        reader.close()
    assert "failure_fields" in _tables(db)


def test_field_index_rows_find_their_failure_when_rowids_are_not_the_last_ones(tmp_path: Path) -> None:
    """When the batch's rows are not the table's last rowids, the field index looks their rowids up by id."""
    db = tmp_path / "store.db"
    store = SqliteStore(db, writer="inline")
    store.close()
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        insert = "INSERT INTO failures (failure_id, contract_ref, root_cause, stage, received_at, doc) VALUES"
        conn.execute(insert + " ('fail_a', 'x@1', 'missing_field', 'schema', 0, x'7b7d')")
        conn.execute(insert + " ('fail_b', 'x@1', 'missing_field', 'schema', 0, x'7b7d')")
        paths.insert(conn, [("priority", "fail_a")], [("fail_a",)])
        assert conn.execute("SELECT path, failure_rowid FROM failure_paths").fetchall() == [("priority", 1)]
    finally:
        conn.close()


def _tables(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.close()
    return names
