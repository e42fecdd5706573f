"""The Bloom filter of bench/bloom.py and the layout prototypes' use of it: no stored id is ever ruled out."""

import hashlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from bench.bloom import Bloom, TableFilter
from hypothesis import given, settings
from hypothesis import strategies as st

from bench import layout
from sigma_aetl.stores.sqlite import apply as product_apply
from sigma_aetl.stores.sqlite.rows import Rows


def ids(tag: str, count: int) -> list[str]:
    """``count`` ids shaped as the product's: ``rec_`` and 32 hex digits of SHA-256."""
    return [f"rec_{hashlib.sha256(f'{tag}{n}'.encode()).hexdigest()[:32]}" for n in range(count)]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=40), max_size=300), st.integers(1, 5000))
def test_an_added_id_is_never_ruled_out(added: list[str], capacity: int) -> None:
    """Every id added, hex-shaped or not, is said to be possibly held, whatever the filter's size."""
    bloom = Bloom(capacity)
    bloom.add(added)
    assert all(bloom.may_hold(ident) for ident in added)
    assert bloom.count == len(added)


def test_false_positives_stay_near_the_design_rate_at_capacity() -> None:
    """Filled to capacity, the filter says "may hold" for under 2.5 % of ids never added (design: ~1.2 %)."""
    bloom = Bloom(20_000)
    bloom.add(ids("in", bloom.capacity))
    assert not bloom.full
    wrong = sum(bloom.may_hold(ident) for ident in ids("out", 20_000))
    assert wrong / 20_000 < 0.025


def test_a_filter_over_capacity_says_so() -> None:
    """One id past capacity makes the filter full, the sign to rebuild it larger."""
    bloom = Bloom(100)
    bloom.add(ids("a", bloom.capacity + 1))
    assert bloom.full


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """A store of one ``records (record_id)`` table on real SQLite, in autocommit mode."""
    db = sqlite3.connect(tmp_path / "f.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE records (record_id TEXT NOT NULL)")
    yield db
    db.close()


def test_catching_up_adds_the_rows_another_connection_wrote(conn: sqlite3.Connection, tmp_path: Path) -> None:
    """Rows another connection appended after the filter's rowid are added by ``catch_up``, and only those."""
    kept = TableFilter("records", "record_id", 1000)
    mine = ids("mine", 50)
    conn.executemany("INSERT INTO records VALUES (?)", [(i,) for i in mine])
    kept.added(mine, 50)
    other = sqlite3.connect(tmp_path / "f.db", isolation_level=None)
    theirs = ids("theirs", 30)
    other.executemany("INSERT INTO records VALUES (?)", [(i,) for i in theirs])
    other.close()
    assert kept.catch_up(conn) == 30
    assert kept.rid == 80
    assert all(kept.bloom.may_hold(i) for i in [*mine, *theirs])
    assert kept.catch_up(conn) == 0


def test_a_saved_filter_loads_with_the_same_bits_and_catches_up(conn: sqlite3.Connection) -> None:
    """A filter saved, then loaded by a fresh reader after more rows landed, holds every stored id."""
    kept = TableFilter("records", "record_id", 1000)
    first = ids("first", 40)
    conn.executemany("INSERT INTO records VALUES (?)", [(i,) for i in first])
    kept.catch_up(conn)
    kept.save(conn)
    later = ids("later", 25)
    conn.executemany("INSERT INTO records VALUES (?)", [(i,) for i in later])
    loaded = TableFilter.load(conn, "records", "record_id", 1000)
    assert loaded.rid == 65
    assert all(loaded.bloom.may_hold(i) for i in [*first, *later])
    assert loaded.bloom.count == 65
    assert bytes(loaded.bloom.bits) != bytes(kept.bloom.bits)  # the later ids were added on load


@pytest.fixture(scope="module")
def rows() -> Rows:
    """One batch of real rows (the product's pipeline and ``rows_of``), made once for the module."""
    return layout.template_rows(200)


@pytest.fixture(params=["product", "lsm"])
def filtered(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[sqlite3.Connection, str]]:
    """A store of the product's or the lsm layout with small levels and small filters (so both grow)."""
    name = str(request.param)
    monkeypatch.setattr(layout, "LEVELS", layout.Levels(first=300, fanout=2))
    for state in ("MERGES", "REBUILDS", "SAVES"):
        monkeypatch.setattr(layout, state, [])
    monkeypatch.setattr(layout, "FILTERS", {f: TableFilter(f, c, 100) for f, c in layout.FAMILIES})
    monkeypatch.setattr(layout, "FILTER_OPTIONS", {"capacity": 100, "save_every": 250})
    monkeypatch.setattr(product_apply, "by_ids", layout.filtered_by_ids)
    conn = layout.open_store(tmp_path / f"{name}.db", name)
    conn.execute("PRAGMA wal_autocheckpoint=0")
    yield conn, name
    conn.close()


def stored(conn: sqlite3.Connection) -> tuple[int, int]:
    """Rows in records and failures."""
    return tuple(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("records", "failures"))


def test_filtered_writes_store_each_event_once(filtered: tuple[sqlite3.Connection, str], rows: Rows) -> None:
    """With the filters consulted first, grown and saved on the way, a batch written again adds nothing."""
    conn, name = filtered
    batches = [layout.scrambled(rows, tag) for tag in range(6)]
    for batch in batches:
        layout.write(conn, name, [batch])
    assert layout.REBUILDS
    assert layout.SAVES
    after = stored(conn)
    assert after == (6 * len(rows.records), 6 * len(rows.failures))
    for batch in batches:
        layout.write(conn, name, [batch])
    assert stored(conn) == after


def test_the_filter_rules_out_the_lookups_of_new_ids(
    filtered: tuple[sqlite3.Connection, str], rows: Rows
) -> None:
    """New ids are nearly all ruled out before any lookup; stored ones are all looked up."""
    conn, name = filtered
    layout.write(conn, name, [rows])
    fresh = layout.scrambled(rows, 99)
    assert len(layout.unseen("records", fresh.records)) <= len(fresh.records) // 20
    assert len(layout.unseen("records", rows.records)) == len(rows.records)
