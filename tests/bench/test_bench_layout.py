"""The lsm prototype layout of bench/layout.py on real SQLite: exactly-once writes across its id levels."""

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import layout
from sigma_aetl.stores.sqlite.rows import Rows


@pytest.fixture(scope="module")
def rows() -> Rows:
    """One batch of real rows (the product's pipeline and ``rows_of``), made once for the module."""
    return layout.template_rows(200)


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[sqlite3.Connection]:
    """An lsm store with small level budgets (300 ids at level 0, fanout 2), so a few batches merge."""
    monkeypatch.setattr(layout, "LEVELS", layout.Levels(first=300, fanout=2))
    monkeypatch.setattr(layout, "MERGES", [])
    conn = layout.open_store(tmp_path / "lsm.db", "lsm")
    yield conn
    conn.close()


def write(conn: sqlite3.Connection, rows: Rows) -> tuple[dict[str, str], set[str]]:
    """Write ``rows`` in one transaction, then the merges it makes due; what was found stored already."""
    start = layout.begin(conn)
    found = layout.lsm_apply(conn, rows)
    layout.commit(conn, start)
    layout.lsm_merge(conn)
    assert isinstance(found, tuple)
    return found[0], found[1]


def counts(conn: sqlite3.Connection) -> tuple[int, int, int]:
    """Rows in records, failures and failure_paths."""
    tables = ("records", "failures", "failure_paths")
    return tuple(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables)


def level_ids(conn: sqlite3.Connection, family: str) -> list[str]:
    """Every id in every level of ``family``, with repeats if an id were in two levels."""
    ids: list[str] = []
    for level in layout.levels(conn, family):
        ids.extend(row[0] for row in conn.execute(f"SELECT id FROM {family}_ids_{level}"))
    return ids


def test_a_batch_written_twice_writes_nothing_the_second_time(store: sqlite3.Connection, rows: Rows) -> None:
    """The second write of a batch finds every one of its ids and adds no row anywhere."""
    first = write(store, rows)
    after_first = counts(store)
    second = write(store, rows)
    assert first == ({}, set())
    assert after_first[:2] == (len(rows.records), len(rows.failures))
    assert set(second[0]) == {row[0] for row in rows.records}
    assert second[1] == {row[0] for row in rows.failures}
    assert counts(store) == after_first
    assert sorted(level_ids(store, "records")) == sorted(row[0] for row in rows.records)


def test_ids_are_found_across_levels_after_merges(store: sqlite3.Connection, rows: Rows) -> None:
    """After merges have spread the ids over several levels, every batch written is found whole again."""
    batches = [layout.scrambled(rows, tag) for tag in range(8)]
    for batch in batches:
        assert write(store, batch) == ({}, set())
    assert {m.level for m in layout.MERGES} >= {1, 2}
    assert len(layout.levels(store, "records")) >= 3
    stored = counts(store)
    for batch in batches:
        records, failures = write(store, batch)
        assert set(records) == {row[0] for row in batch.records}
        assert failures == {row[0] for row in batch.failures}
    assert counts(store) == stored
    for family, rowsof in (("records", "records"), ("failures", "failures")):
        ids = level_ids(store, family)
        expected = [row[0] for batch in batches for row in getattr(batch, rowsof)]
        assert sorted(ids) == sorted(expected)  # each id in exactly one level


def test_found_records_carry_their_content_hashes(store: sqlite3.Connection, rows: Rows) -> None:
    """Each record found on the second write comes with the content hash it was stored with."""
    batches = [layout.scrambled(rows, tag) for tag in range(5)]
    for batch in batches:
        write(store, batch)
    for batch in batches:
        found, _ = write(store, batch)
        assert found == {row[0]: row[4] for row in batch.records}


def test_records_and_failures_have_no_index_on_the_full_id(store: sqlite3.Connection) -> None:
    """The lsm tables keep no autoindex on record_id or failure_id: the levels are the only id index."""
    for table, key in layout.FAMILIES:
        indexes = [str(row[1]) for row in store.execute(f"PRAGMA index_list({table})")]
        columns = [[row[2] for row in store.execute(f"PRAGMA index_info({name})")] for name in indexes]
        assert indexes
        assert [key] not in columns


def test_a_levels_cycle_is_the_merges_between_its_last_two_merges_out() -> None:
    """The amortised merge cost reads, per level, the merges into it between its last two merges out."""

    def merge(level: int, moved: int, cpu: float) -> layout.Merge:
        return layout.Merge("records", level, moved, moved, cpu, cpu, 10)

    history = [merge(1, 10, 1.0), merge(1, 10, 2.0), merge(2, 20, 3.0), merge(1, 10, 4.0), merge(1, 10, 5.0)]
    history += [merge(2, 20, 6.0), merge(1, 10, 7.0)]
    assert layout.cycle(history, "records", 1) == [history[3], history[4]]
    assert layout.cycle(history, "records", 2) == [history[2], history[5]]
    us, frames = layout.amortised(history, {"records": 0.5, "failures": 0.5})
    assert us == pytest.approx(0.5 * (9.0 / 20 + 9.0 / 40) * 1e6)
    assert frames == pytest.approx(0.5 * (20 / 20 + 20 / 40))


def test_open_store_sets_the_pragmas_it_is_given(tmp_path: Path) -> None:
    """The pragmas passed to open_store (--pragma) are set on the writer's connection after its own."""
    conn = layout.open_store(tmp_path / "product.db", "product", ["cache_size=-131072", "mmap_size=1048576"])
    try:
        assert conn.execute("PRAGMA cache_size").fetchone() == (-131072,)
        assert conn.execute("PRAGMA mmap_size").fetchone() == (1048576,)
    finally:
        conn.close()
