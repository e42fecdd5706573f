"""Writer layouts side by side: what one 1,000-event transaction costs the SQLite writer as the store grows.

A prototype bench for the speed issue's second round, not a product path. It builds one batch of real
rows through the product (the bench's events decided by the real pipeline, then ``rows_of``), then fills a
store per layout by varying the ids of those rows (synchronous=OFF, large transactions), and at each size
times transactions of 1,000 events on synchronous=FULL in the calling process: the CPU and wall
microseconds per event of ``apply`` + COMMIT, and the bytes on disk per stored event.

Layouts (schema + the index writes that differ; the class and roll-up tables are the product's in all):

- ``product``: the product's schema and :func:`sigma_aetl.stores.sqlite.apply.apply`. Since the speed
  issue's second round that is the former ``slim`` prototype: without ``failures_version`` (a prefix of
  ``failures_contract``), and the failures' field paths keyed by the failure's rowid (``paths.py``).
  Check out a commit before it (fa759b8) to measure the layout before.
- ``intkey``: ``product`` plus ids looked up through a small integer index (the id's last 64 bits,
  verified against the full id) instead of the TEXT primary key's autoindex: the tables are rowid tables
  without any index on the full id.
- ``lsm``: ``product``'s rows in rowid tables without any index on the full id, as ``intkey``, and the ids
  in log-structured *levels*: ``records_ids_0`` (and ``failures_ids_0``), a small ``(id TEXT PRIMARY KEY,
  rid)`` WITHOUT ROWID table, takes every new id; when a level holds more than its budget (level ``k``:
  ``--level0`` times ``--fanout`` to the ``k``), it is merged with the next level into a fresh table in key
  order, in a transaction of its own (:func:`lsm_merge`). A write looks its ids up in every level.

``--filter`` (either layout): a Bloom filter per family over its stored ids (``bench/bloom.py``) is asked
first, and only the ids it does not rule out are looked up (in the product's index or in the levels). It is
kept in memory, caught up by rowid at each write's BEGIN with rows another process wrote, rebuilt at twice
its size from every stored id when over capacity, and saved as a blob every ``--save-every`` ids (both
counted apart, as the merges are, and amortised: twice a rebuild's CPU per id it scanned, plus a save's CPU
per id added since the last save). The reader loads the saved filter, as another process would.

Checkpoints: every commit is followed by a ``wal_checkpoint(TRUNCATE)`` once the WAL holds 20,000 frames
(the product's ``wal_autocheckpoint=20000``, done by hand so the WAL file's size gives the frames, that is
the pages, each commit wrote). Its cost counts in the transaction that triggered it.

The CPU figures per size: the median and the mean over ``--transactions`` transactions (each one's CPU
includes the merges it triggered), and the *amortised* cost: the mean of the transactions' own CPU (merges
left out) plus, for each family ``f`` (records, failures) and level ``k``, ``s_f * ΣC / Σn``: ``C`` the CPU
of a merge into level ``k`` (its commit and checkpoint included), ``n`` the ids it moved in from level
``k - 1``, both summed over the merges into ``k`` of its last full cycle (between its last two merges into
``k + 1``; all of them for a level never merged further), and ``s_f`` the family's ids per event. Each id
reaches each level once, so this is what the merges cost per event in the long run (the merges during the
fill count as well as those during the measure).

Run: ``python -m bench.layout --sizes 0,1000000,5000000 --layouts product,lsm``.
"""

import argparse
import hashlib
import os
import re
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bench import data
from bench.bloom import Rebuild, TableFilter
from sigma_aetl.contracts.loader import load_registry
from sigma_aetl.examples import CONTRACTS as CONTRACTS_DIR
from sigma_aetl.ingest.files import FileSource
from sigma_aetl.ingest.pipeline import Pipeline
from sigma_aetl.stores import metadata
from sigma_aetl.stores.sqlite import apply as product_apply
from sigma_aetl.stores.sqlite import classes, rollups
from sigma_aetl.stores.sqlite.apply import INSERT_FAILURE, apply
from sigma_aetl.stores.sqlite.lookups import by_ids
from sigma_aetl.stores.sqlite.rows import Row, Rows, rows_of
from sigma_aetl.stores.sqlite.store import SqliteStore

Apply = Callable[[sqlite3.Connection, Rows], object]


def template_rows(count: int) -> Rows:
    """One batch of real rows: ``count`` bench events decided by the product's pipeline."""
    with tempfile.TemporaryDirectory() as tmp:
        path = data.write_jsonl(Path(tmp, "t.jsonl"), count, prefix="t", seed=7, valid_share=0.8)
        store = SqliteStore.from_url(f"sqlite:///{tmp}/t.db?writer=inline")
        pipeline = Pipeline(load_registry(CONTRACTS_DIR), store)
        with path.open("rb") as stream:
            (batch,) = list(FileSource(stream, "shipment", "1", path=path, batch_size=count).batches())
        prepared = pipeline.prepare(batch)
        parts = metadata.split(list(prepared.first.values()), prepared.failures)
        rows = rows_of(parts.records, parts.failures, parts.headers)
        store.close()
    return rows


def scrambled(rows: Rows, tag: int) -> Rows:
    """``rows`` with every id made unique to ``tag``, spread over the whole key space as hashes are."""

    def new(old: str) -> str:
        return old[:5] + hashlib.sha256(f"{old}{tag}".encode()).hexdigest()[:32]

    return replace(
        rows,
        records=[(new(row[0]), *row[1:]) for row in rows.records],
        failures=[(new(row[0]), *row[1:]) for row in rows.failures],
        fields=[(path, new(fid)) for path, fid in rows.fields],
        counted=[(new(row[0]), *row[1:]) for row in rows.counted],
        producers={new(key): value for key, value in rows.producers.items()},
    )


def open_store(path: Path, layout: str, pragmas: Sequence[str] = ()) -> sqlite3.Connection:
    """A store with the product's schema, changed as ``layout`` says; a plain connection to it, with
    ``pragmas`` (``name=value``) set after the product writer's own."""
    SqliteStore.from_url(f"sqlite:///{path}").close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA cache_size=-65536")  # the product writer's pragmas (stores/sqlite/store.py)
    conn.execute("PRAGMA wal_autocheckpoint=20000")
    for pragma in pragmas:
        conn.execute(f"PRAGMA {pragma}")
    if layout == "intkey":
        for table in ("records", "failures"):
            decl = ", ".join(str(r[1]) for r in conn.execute(f"PRAGMA table_info({table})"))
            conn.execute(f"ALTER TABLE {table} RENAME TO {table}_old")
            conn.execute(f"CREATE TABLE {table} ({decl})")
            conn.execute(f"INSERT INTO {table} SELECT * FROM {table}_old")
            conn.execute(f"DROP TABLE {table}_old")
            conn.execute(f"CREATE TABLE {table}_keys (k INTEGER PRIMARY KEY, rid INTEGER NOT NULL)")
        conn.execute("CREATE INDEX IF NOT EXISTS records_version ON records (contract, version)")
        for name, cols in (
            ("failures_received", "received_at DESC"),
            ("failures_contract", "contract, version, received_at DESC"),
            ("failures_cause", "root_cause, received_at DESC"),
            ("failures_class", "class_id, received_at"),
        ):
            conn.execute(f"CREATE INDEX IF NOT EXISTS {name} ON failures ({cols})")
    if layout == "lsm":
        # this SQLite is built with SECURE_DELETE on: a dropped level's every page would be zeroed and written
        conn.execute("PRAGMA secure_delete=FAST")
        lsm_schema(conn)
    return conn


def lsm_schema(conn: sqlite3.Connection) -> None:
    """The product's records and failures without their ids' autoindexes, and an empty level 0 of ids each."""
    for table, key in FAMILIES:
        (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()
        conn.execute(f"DROP TABLE {table}")  # empty: the store was just made
        keyless = re.sub(rf"{key}\s+TEXT PRIMARY KEY", f"{key} TEXT NOT NULL", str(sql))
        if keyless == sql:
            raise ValueError(f"no TEXT PRIMARY KEY {key} in {sql}")
        conn.execute(keyless)
    conn.execute("CREATE INDEX records_version ON records (contract, version)")
    for name, cols in (
        ("failures_received", "received_at DESC"),
        ("failures_contract", "contract, version, received_at DESC"),
        ("failures_cause", "root_cause, received_at DESC"),
        ("failures_class", "class_id, received_at"),
    ):
        conn.execute(f"CREATE INDEX {name} ON failures ({cols})")
    conn.execute(
        "CREATE TABLE lsm_levels (family TEXT NOT NULL, level INTEGER NOT NULL, ids INTEGER NOT NULL, "
        "PRIMARY KEY (family, level)) WITHOUT ROWID"
    )
    for table, _ in FAMILIES:
        conn.execute(_LEVEL_TABLE.format(name=f"{table}_ids_0"))
        conn.execute("INSERT INTO lsm_levels VALUES (?, 0, 0)", (table,))


def _key(ident: str) -> int:
    value = int(ident[-16:], 16)
    return value - (1 << 64) if value >= 1 << 63 else value


def intkey_apply(conn: sqlite3.Connection, rows: Rows) -> object:
    """Ids found through a 64-bit integer index (verified against the full id); rows in rowid order."""
    found_records: dict[str, str] = {}
    found_failures: set[str] = set()
    new_records = []
    for row in rows.records:
        hit = conn.execute(
            "SELECT r.record_id, r.content_hash FROM records_keys k JOIN records r ON r.rowid = k.rid "
            "WHERE k.k = ?",
            (_key(row[0]),),
        ).fetchone()
        if hit is not None and hit[0] == row[0]:
            found_records[row[0]] = hit[1]
        else:
            new_records.append(row)
    fresh = []
    for row in rows.failures:
        hit = conn.execute(
            "SELECT f.failure_id FROM failures_keys k JOIN failures f ON f.rowid = k.rid WHERE k.k = ?",
            (_key(row[0]),),
        ).fetchone()
        if hit is not None and hit[0] == row[0]:
            found_failures.add(row[0])
        else:
            fresh.append(row)
    conn.executemany("INSERT OR IGNORE INTO request_headers VALUES (?, ?)", rows.headers)
    rowids: dict[str, int] = {}
    for row in new_records:
        cur = conn.execute("INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?)", row)
        rowids[row[0]] = cur.lastrowid or 0
    conn.executemany("INSERT INTO records_keys VALUES (?, ?)", [(_key(i), r) for i, r in rowids.items()])
    frowid: dict[str, int] = {}
    for row in fresh:
        cur = conn.execute(INSERT_FAILURE, row)
        frowid[row[0]] = cur.lastrowid or 0
    conn.executemany("INSERT INTO failures_keys VALUES (?, ?)", [(_key(i), r) for i, r in frowid.items()])
    _rest_of_write(conn, rows, frowid, new_records, fresh)
    return found_records, found_failures


def _rest_of_write(
    conn: sqlite3.Connection, rows: Rows, frowid: dict[str, int], new_records: list[Row], fresh: list[Row]
) -> None:
    """What ``intkey`` and ``lsm`` write as the product does: the new failures' field paths (by rowid),
    the class tables, producer activity and roll-ups."""
    conn.executemany(
        "INSERT OR IGNORE INTO failure_paths VALUES (?, ?)",
        [(p, frowid[f]) for p, f in rows.fields if f in frowid],
    )
    classes.keep(conn, rows.classes, rows.producers, fresh, [])
    classes.keep_activity(conn, rows.producers, new_records)
    rollups.keep(conn, rows.producers, new_records, fresh)


FAMILIES = (("records", "record_id"), ("failures", "failure_id"))
"""The tables whose ids live in levels, and their id columns."""
_LEVEL_TABLE = "CREATE TABLE {name} (id TEXT PRIMARY KEY, rid INTEGER NOT NULL) WITHOUT ROWID"
_INSERT_RECORD = (
    "INSERT INTO records (rowid, record_id, contract, version, fingerprint, content_hash, received_at, doc) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_FAILURE_AT = INSERT_FAILURE.replace("(failure_id", "(rowid, failure_id").replace(
    "VALUES (", "VALUES (?, "
)


@dataclass
class Levels:
    """The lsm layout's budgets: level 0 holds up to ``first`` ids, each next level ``fanout`` times more."""

    first: int = 10_000
    fanout: int = 10
    merge: str = "rewrite"

    def budget(self, level: int) -> int:
        """The most ids level ``level`` holds before it is merged into the next."""
        return int(self.first * self.fanout**level)


LEVELS = Levels()


@dataclass(frozen=True)
class Merge:
    """One merge of a level into the next: ``moved`` ids from level ``level - 1`` into ``level``, which then
    holds ``total``; its CPU and wall seconds (commit and checkpoint included) and the WAL frames it wrote."""

    family: str
    level: int
    moved: int
    total: int
    cpu: float
    wall: float
    frames: int


MERGES: list[Merge] = []
"""Every merge :func:`lsm_merge` made in this process, in order."""
PHASES: dict[str, float] = {"lookups": 0.0, "apply": 0.0, "commit": 0.0}
"""CPU seconds spent so far in the id lookups, in the whole apply (lookups included) and in COMMIT with its
checkpoint, over the transactions :func:`write` made."""


FILTERS: dict[str, TableFilter] = {}
"""With ``--filter``: a Bloom filter per family (``records``, ``failures``) over its stored ids, consulted
before the id lookups (an id it rules out is not looked up) and kept up to date by :func:`write`."""
REBUILDS: list[Rebuild] = []
"""Every filter rebuilt at a larger size in this process, in order."""
SAVES: list[Rebuild] = []
"""Every save of a filter (``ids``: the ids added since the save before), in order."""
FILTER_OPTIONS: dict[str, int] = {"capacity": 1_000_000, "save_every": 1_000_000}
"""A new filter's capacity in ids, and how many ids are added between two saves of it."""


def unseen(family: str, rows: Sequence[tuple[Any, ...]]) -> Sequence[tuple[Any, ...]]:
    """``rows`` whose ids ``family``'s filter does not rule out (all of them without ``--filter``)."""
    if family not in FILTERS:
        return rows
    may_hold = FILTERS[family].bloom.may_hold
    return [row for row in rows if may_hold(row[0])]


def filtered_by_ids(
    conn: sqlite3.Connection, select: str, column: str, rows: Sequence[tuple[Any, ...]]
) -> list[tuple[Any, ...]]:
    """:func:`timed_by_ids` of the rows the family's filter does not rule out (the product's lookups)."""
    c0 = cpu()
    left = unseen("records" if column == "record_id" else "failures", rows)
    PHASES["lookups"] += cpu() - c0
    return timed_by_ids(conn, select, column, left) if left else []


def timed_by_ids(
    conn: sqlite3.Connection, select: str, column: str, rows: Sequence[tuple[Any, ...]]
) -> list[tuple[Any, ...]]:
    """:func:`~sigma_aetl.stores.sqlite.lookups.by_ids`, its CPU added to ``PHASES["lookups"]``."""
    c0 = cpu()
    found = by_ids(conn, select, column, rows)
    PHASES["lookups"] += cpu() - c0
    return found


def levels(conn: sqlite3.Connection, family: str) -> dict[int, int]:
    """The levels of ``family``'s ids, newest first: level number to ids held."""
    query = "SELECT level, ids FROM lsm_levels WHERE family = ? ORDER BY level"
    return {int(level): int(ids) for level, ids in conn.execute(query, (family,))}


def lsm_found(
    conn: sqlite3.Connection, family: str, column: str | None, rows: list[tuple[object, ...]]
) -> list[tuple[object, ...]]:
    """(id,) or (id, ``column``) of each of ``rows``' ids stored in any level, one ``IN`` query per level and
    chunk of 500 (an id found in a level is not looked for in the older ones: an id is in one level only)."""
    found: list[tuple[object, ...]] = []
    c0 = cpu()
    left = list(unseen(family, rows))
    PHASES["lookups"] += cpu() - c0
    for level in levels(conn, family):
        if not left:
            break
        if column is None:
            hits = timed_by_ids(conn, f"SELECT id FROM {family}_ids_{level}", "id", left)
        else:
            select = f"SELECT l.id, t.{column} FROM {family}_ids_{level} l JOIN {family} t ON t.rowid = l.rid"
            hits = timed_by_ids(conn, select, "l.id", left)
        if hits:
            found.extend(hits)
            seen = {hit[0] for hit in hits}
            left = [row for row in left if row[0] not in seen]
    return found


def _lsm_insert(
    conn: sqlite3.Connection, family: str, insert: str, rows: list[tuple[object, ...]]
) -> dict[str, int]:
    """Insert ``rows`` at the next rowids and their ids into level 0; the rowid of each id."""
    if not rows:
        return {}
    (last,) = conn.execute(f"SELECT coalesce(max(rowid), 0) FROM {family}").fetchone()
    conn.executemany(insert, [(last + 1 + index, *row) for index, row in enumerate(rows)])
    rowids = {str(row[0]): last + 1 + index for index, row in enumerate(rows)}
    conn.executemany(f"INSERT INTO {family}_ids_0 VALUES (?, ?)", sorted(rowids.items()))
    conn.execute("UPDATE lsm_levels SET ids = ids + ? WHERE family = ? AND level = 0", (len(rows), family))
    return rowids


def lsm_apply(conn: sqlite3.Connection, rows: Rows) -> object:
    """Ids looked up in every level; new rows appended in rowid order, their ids into level 0; the rest of
    the write as ``intkey_apply``. Call in a transaction, and :func:`lsm_merge` after its commit."""
    found_records = {str(i): str(h) for i, h in lsm_found(conn, "records", "content_hash", rows.records)}
    found_failures = {str(hit[0]) for hit in lsm_found(conn, "failures", None, rows.failures)}
    new_records = [row for row in rows.records if row[0] not in found_records]
    fresh = [row for row in rows.failures if row[0] not in found_failures]
    conn.executemany("INSERT OR IGNORE INTO request_headers VALUES (?, ?)", rows.headers)
    _lsm_insert(conn, "records", _INSERT_RECORD, new_records)
    frowid = _lsm_insert(conn, "failures", _INSERT_FAILURE_AT, fresh)
    _rest_of_write(conn, rows, frowid, new_records, fresh)
    return found_records, found_failures


def begin(conn: sqlite3.Connection) -> int:
    """BEGIN IMMEDIATE; the frames in the WAL before it (a large transaction spills pages into the WAL
    before its COMMIT, so a transaction's frames are counted from here)."""
    start = wal_frames(conn)
    conn.execute("BEGIN IMMEDIATE")
    return start


def commit(conn: sqlite3.Connection, start: int) -> int:
    """COMMIT, then checkpoint (TRUNCATE) once the WAL holds 20,000 frames; the frames the transaction begun
    with ``start`` frames in the WAL wrote."""
    conn.execute("COMMIT")
    now = wal_frames(conn)
    if now >= 20_000:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return now - start


def wal_frames(conn: sqlite3.Connection) -> int:
    """The frames in the WAL file (its size: the WAL is truncated at each checkpoint, so it only grows)."""
    (name,) = [row[2] for row in conn.execute("PRAGMA database_list") if row[1] == "main"]
    wal = Path(f"{name}-wal")
    size = wal.stat().st_size if wal.exists() else 0
    (page,) = conn.execute("PRAGMA page_size").fetchone()
    return max(size - 32, 0) // (int(page) + 24)


def lsm_merge(conn: sqlite3.Connection) -> list[Merge]:
    """Merge every level over its budget into the next, level 0 first, each merge a transaction of its own
    (so a crash leaves the old levels or the new ones, never both or neither); call outside a transaction.
    Returns the merges made (also kept in :data:`MERGES`).

    ``LEVELS.merge == "rewrite"``: the next level is rewritten with the merged one into a fresh table in key
    order, the old one dropped and the fresh one renamed. ``"insert"``: the merged level's ids are inserted
    into the next level in key order, in place (a missing or empty next level is the merged one, renamed).
    Either way the merged level is emptied."""
    done: list[Merge] = []
    for family, _ in FAMILIES:
        level = 0
        while True:
            sizes = levels(conn, family)
            if sizes.get(level, 0) <= LEVELS.budget(level):
                break
            c0, w0 = cpu(), time.perf_counter()
            upper, lower = f"{family}_ids_{level}", f"{family}_ids_{level + 1}"
            start = begin(conn)
            if LEVELS.merge == "rewrite":
                _rewrite(conn, family, upper, lower, level + 1 in sizes)
            else:
                _insert_into(conn, upper, lower, level + 1 in sizes, sizes.get(level + 1, 0) > 0)
            total = sizes[level] + sizes.get(level + 1, 0)
            conn.execute("UPDATE lsm_levels SET ids = 0 WHERE family = ? AND level = ?", (family, level))
            conn.execute("INSERT OR REPLACE INTO lsm_levels VALUES (?, ?, ?)", (family, level + 1, total))
            frames = commit(conn, start)
            merge = Merge(
                family, level + 1, sizes[level], total, cpu() - c0, time.perf_counter() - w0, frames
            )
            done.append(merge)
            MERGES.append(merge)
            level += 1
    return done


def _rewrite(conn: sqlite3.Connection, family: str, upper: str, lower: str, exists: bool) -> None:
    """``upper`` and ``lower`` merged in key order into a fresh table that becomes ``lower``; ``upper``
    emptied. In the caller's transaction."""
    new = f"{family}_ids_new"
    conn.execute(_LEVEL_TABLE.format(name=new))
    if exists:
        conn.execute(
            f"INSERT INTO {new} SELECT id, rid FROM {upper} UNION ALL SELECT id, rid FROM {lower} ORDER BY id"
        )
        conn.execute(f"DROP TABLE {lower}")
    else:
        conn.execute(f"INSERT INTO {new} SELECT id, rid FROM {upper} ORDER BY id")
    conn.execute(f"ALTER TABLE {new} RENAME TO {lower}")
    conn.execute(f"DELETE FROM {upper}")


def _insert_into(conn: sqlite3.Connection, upper: str, lower: str, exists: bool, filled: bool) -> None:
    """``upper``'s ids inserted into ``lower`` in key order (or ``upper`` renamed to an absent or empty
    ``lower``, and a fresh ``upper`` made); ``upper`` emptied. In the caller's transaction."""
    if filled:
        conn.execute(f"INSERT INTO {lower} SELECT id, rid FROM {upper} ORDER BY id")
        conn.execute(f"DELETE FROM {upper}")
        return
    if exists:
        conn.execute(f"DROP TABLE {lower}")
    conn.execute(f"ALTER TABLE {upper} RENAME TO {lower}")
    conn.execute(_LEVEL_TABLE.format(name=upper))


APPLY: dict[str, Apply] = {"product": apply, "intkey": intkey_apply, "lsm": lsm_apply}


def cpu() -> float:
    """This process's CPU seconds so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def write(conn: sqlite3.Connection, layout: str, batches: list[Rows]) -> tuple[int, list[Merge]]:
    """``batches`` in one transaction, then the merges it makes due; the frames the transaction wrote."""
    start = begin(conn)
    c0 = cpu()
    for kept in FILTERS.values():
        kept.catch_up(conn)  # rows another process wrote since this one's last write (none in this bench)
    PHASES["lookups"] += cpu() - c0
    for batch in batches:
        APPLY[layout](conn, batch)
        if FILTERS:
            note_added(conn, batch)
    c1 = cpu()
    frames = commit(conn, start)
    PHASES["apply"] += c1 - c0
    PHASES["commit"] += cpu() - c1
    merges = lsm_merge(conn) if layout == "lsm" else []
    upkeep(conn, layout)
    return frames, merges


def note_added(conn: sqlite3.Connection, rows: Rows) -> None:
    """Add every id of ``rows`` to its family's filter (those found stored too: a superset is safe)."""
    for (family, _), ids in zip(FAMILIES, (rows.records, rows.failures), strict=True):
        (last,) = conn.execute(f"SELECT coalesce(max(rowid), 0) FROM {family}").fetchone()
        FILTERS[family].added((str(row[0]) for row in ids), int(last))


def upkeep(conn: sqlite3.Connection, layout: str) -> None:
    """Rebuild a filter over its capacity at twice its size, from every stored id; save a filter every
    ``save_every`` ids, in a transaction of its own (outside a transaction)."""
    for family, column in FAMILIES:
        kept = FILTERS.get(family)
        if kept is None:
            continue
        if kept.bloom.full:
            c0 = cpu()
            ids = stored_ids(conn, layout, family, column)
            kept.grown(ids)
            REBUILDS.append(Rebuild(family, len(ids), cpu() - c0))
        since = kept.unsaved
        if since >= FILTER_OPTIONS["save_every"]:
            c0 = cpu()
            conn.execute("BEGIN IMMEDIATE")
            kept.save(conn)
            conn.execute("COMMIT")
            SAVES.append(Rebuild(family, since, cpu() - c0))


def stored_ids(conn: sqlite3.Connection, layout: str, family: str, column: str) -> list[str]:
    """Every id of ``family`` stored: from its levels (lsm) or its id index (the others)."""
    if layout != "lsm":
        return [str(row[0]) for row in conn.execute(f"SELECT {column} FROM {family}")]
    ids: list[str] = []
    for level in levels(conn, family):
        ids.extend(str(row[0]) for row in conn.execute(f"SELECT id FROM {family}_ids_{level}"))
    return ids


def fill(conn: sqlite3.Connection, layout: str, rows: Rows, start: int, stop: int) -> float:
    """Add batches ``start..stop`` (each ``rows`` renamed) on synchronous=OFF, 10 batches a transaction."""
    conn.execute("PRAGMA synchronous=OFF")
    began = time.perf_counter()
    for first in range(start, stop, 10):
        write(conn, layout, [scrambled(rows, tag) for tag in range(first, min(first + 10, stop))])
    return time.perf_counter() - began


@dataclass
class Figures:
    """One layout at one size: µs of CPU and wall per event, WAL frames per transaction."""

    cpu_median: float
    cpu_mean: float
    cpu_own: float
    cpu_merges: float
    wall_median: float
    wall_mean: float
    frames_mean: float
    frames_amortised: float
    merges: list[Merge] = field(default_factory=list)


def cycle(merges: list[Merge], family: str, level: int) -> list[Merge]:
    """The merges into ``family``'s ``level`` during its last full cycle: between the last two merges out of
    it (into ``level + 1``), or before the only one; all of them if it was never merged out."""
    into = [(at, m) for at, m in enumerate(merges) if (m.family, m.level) == (family, level)]
    out = [at for at, m in enumerate(merges) if (m.family, m.level) == (family, level + 1)]
    start, stop = (out[-2] if len(out) > 1 else -1, out[-1]) if out else (-1, len(merges))
    return [m for at, m in into if start < at < stop]


def amortised(merges: list[Merge], shares: dict[str, float]) -> tuple[float, float]:
    """Per event, the (CPU µs, WAL frames) of merges once every id has passed through every level made so
    far: Σ over families f and levels k of ``shares[f] * ΣC / Σn`` over :func:`cycle`'s merges into k, C
    a merge's CPU µs (or frames) and n the ids it moved in (each id written arrives at each level once)."""
    us = frames = 0.0
    for family, level in {(m.family, m.level) for m in merges}:
        last = cycle(merges, family, level)
        moved = sum(m.moved for m in last)
        us += shares[family] * sum(m.cpu for m in last) * 1e6 / moved
        frames += shares[family] * sum(m.frames for m in last) / moved
    return us, frames


def measure(conn: sqlite3.Connection, layout: str, rows: Rows, start: int, count: int) -> Figures:
    """``count`` 1,000-event transactions on synchronous=FULL, each followed by the merges it makes due."""
    conn.execute("PRAGMA synchronous=FULL")
    batches = [scrambled(rows, tag) for tag in range(start, start + count)]
    events = len(rows.records) + len(rows.failures)
    shares = {"records": len(rows.records) / events, "failures": len(rows.failures) / events}
    cpus, walls, own, frames = [], [], [], []
    merges: list[Merge] = []
    PHASES.update(dict.fromkeys(PHASES, 0.0))
    upkept = 0.0
    for batch in batches:
        c0, w0 = cpu(), time.perf_counter()
        kept_before = len(REBUILDS) + len(SAVES)
        written, made = write(conn, layout, [batch])
        cpus.append((cpu() - c0) / events * 1e6)
        walls.append((time.perf_counter() - w0) / events * 1e6)
        upkeep_cpu = sum(u.cpu for u in [*REBUILDS, *SAVES][kept_before:]) if FILTERS else 0.0
        upkept += upkeep_cpu
        own.append(cpus[-1] - (sum(m.cpu for m in made) + upkeep_cpu) / events * 1e6)
        frames.append(written)
        merges.extend(made)
    merge_us, merge_frames = amortised(MERGES, shares)
    filter_us = filter_upkeep(shares)
    per = 1e6 / (count * events)
    print(
        f"# mean CPU µs/event: id lookups {PHASES['lookups'] * per:.1f}, rest of apply"
        f" {(PHASES['apply'] - PHASES['lookups']) * per:.1f},"
        f" commit with checkpoints {PHASES['commit'] * per:.1f},"
        f" merges during the measure {sum(m.cpu for m in merges) * per:.1f},"
        f" filter upkeep during the measure {upkept * per:.1f}, amortised {filter_us:.1f}"
    )
    return Figures(
        statistics.median(cpus),
        statistics.mean(cpus),
        statistics.mean(own),
        merge_us + filter_us,
        statistics.median(walls),
        statistics.mean(walls),
        statistics.mean(frames),
        statistics.mean(frames) + merge_frames * events,
        merges,
    )


def filter_upkeep(shares: dict[str, float]) -> float:
    """CPU µs per event of the filters' upkeep in the long run: per family, twice the last rebuild's CPU per
    id it scanned (rebuilds at doubling sizes scan each id about twice in all) plus the last save's CPU per
    id added since the save before, weighted by the family's ids per event."""
    us = 0.0
    for family in FILTERS:
        rebuilt = [r for r in REBUILDS if r.family == family]
        saved = [s for s in SAVES if s.family == family]
        if rebuilt:
            us += shares[family] * 2 * rebuilt[-1].cpu * 1e6 / max(rebuilt[-1].ids, 1)
        if saved:
            us += shares[family] * saved[-1].cpu * 1e6 / max(saved[-1].ids, 1)
    return us


def reads(path: Path, layout: str, ids: list[str]) -> tuple[float, float]:
    """Mean CPU µs and queries of a get of each record id by a fresh read-only connection (another
    process's view: its own page cache, every level an ordinary table)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    queries = 0
    conn.execute(
        "SELECT count(*) FROM lsm_levels" if layout == "lsm" else "SELECT 1"
    ).fetchone()  # the schema
    kept = None
    if FILTERS:
        c0 = cpu()
        kept = TableFilter.load(conn, "records", "record_id", FILTER_OPTIONS["capacity"])
        print(
            f"# reader: filter of {kept.bloom.count:,} record ids ({len(kept.bloom.bits) / 2**20:.1f} MiB)"
            f" loaded in {(cpu() - c0) * 1e3:.0f} ms CPU"
        )
    c0 = cpu()
    for ident in ids:
        if kept is not None and not kept.bloom.may_hold(ident):
            continue
        if layout == "lsm":
            for level in levels(conn, "records"):
                queries += 1
                hit = conn.execute(
                    f"SELECT r.* FROM records_ids_{level} l JOIN records r ON r.rowid = l.rid WHERE l.id = ?",
                    (ident,),
                ).fetchone()
                if hit is not None:
                    break
        else:
            queries += 1
            conn.execute("SELECT * FROM records WHERE record_id = ?", (ident,)).fetchone()
    took = cpu() - c0
    conn.close()
    return took / len(ids) * 1e6, queries / len(ids)


def report(
    conn: sqlite3.Connection,
    path: Path,
    layout: str,
    rows: Rows,
    *,
    done: int,
    transactions: int,
    took: float,
) -> None:
    """Measure ``layout`` with ``done`` batches stored and print its line of the table (and its merges)."""
    events = len(rows.records) + len(rows.failures)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    load = os.getloadavg()
    got = measure(conn, layout, rows, 10_000_000 + done, transactions)
    load_after = os.getloadavg()
    for merge in got.merges:
        print(f"# merge during the measure: {merge}")
    last = {(m.family, m.level): m for m in MERGES}
    for key in sorted(last):
        print(f"# last merge into {key}: {last[key]}")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    done_rows = done * events
    disk = path.stat().st_size
    per = disk / max(done_rows + transactions * events, 1)
    (free,) = conn.execute("PRAGMA freelist_count").fetchone()
    stored = [*range(done), *range(10_000_000 + done, 10_000_000 + done + transactions)]
    tags = stored[:: max(len(stored) // 200, 1)]
    present = [scrambled(rows, tag).records[tag % len(rows.records)][0] for tag in tags]
    absent = [scrambled(rows, 30_000_000 + tag).records[0][0] for tag in range(200)]
    if FILTERS:
        conn.execute("BEGIN IMMEDIATE")
        for kept in FILTERS.values():
            kept.save(conn)  # for the reader below, which loads it as another process would
        conn.execute("COMMIT")
        sizes = ", ".join(
            f"{f} {k.bloom.count:,} ids in {len(k.bloom.bits) / 2**20:.1f} MiB" for f, k in FILTERS.items()
        )
        print(f"# filters: {sizes}; rebuilds {REBUILDS[-4:]}; saves {SAVES[-2:]}")
    got_in, q_in = reads(path, layout, present)
    got_out, q_out = reads(path, layout, absent)
    sizes_now = {f: levels(conn, f) for f, _ in FAMILIES} if layout == "lsm" else {}
    print(
        f"{layout} | {done_rows:,}"
        f" | {got.cpu_median:.1f} / {got.cpu_mean:.1f} / {got.cpu_own:.1f} + {got.cpu_merges:.1f}"
        f" = {got.cpu_own + got.cpu_merges:.1f}"
        f" | {got.wall_median:.1f} / {got.wall_mean:.1f}"
        f" | {got.frames_mean:.0f} / {got.frames_amortised:.0f} | {per:.0f} | {free:,}"
        f" | {got_in:.1f}, {q_in:.1f} / {got_out:.1f}, {q_out:.1f} | {sizes_now}"
        f" | {load[0]:.2f}-{load_after[0]:.2f} | {took:.0f}",
        flush=True,
    )


def main(argv: list[str]) -> None:
    """Measure each layout at each size and print a table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="0,1000000")
    parser.add_argument("--layouts", default="product,lsm")
    parser.add_argument("--transactions", type=int, default=300)
    parser.add_argument("--level0", type=int, default=LEVELS.first)
    parser.add_argument("--fanout", type=int, default=LEVELS.fanout)
    parser.add_argument("--merge", choices=("rewrite", "insert"), default=LEVELS.merge)
    parser.add_argument("--filter", action="store_true", help="a Bloom filter of each family's ids first")
    parser.add_argument("--filter-capacity", type=int, default=FILTER_OPTIONS["capacity"])
    parser.add_argument("--save-every", type=int, default=FILTER_OPTIONS["save_every"])
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--keep", action="store_true", help="keep each layout's store (default: delete it)")
    parser.add_argument("--pragma", action="append", default=[], help="name=value, set on the connection")
    args = parser.parse_args(argv)
    LEVELS.first, LEVELS.fanout, LEVELS.merge = args.level0, args.fanout, args.merge
    FILTER_OPTIONS.update(capacity=args.filter_capacity, save_every=args.save_every)
    # the product's lookups timed too (and filtered first, with --filter)
    product_apply.by_ids = filtered_by_ids if args.filter else timed_by_ids  # type: ignore[attr-defined]
    rows = template_rows(1000)
    events = len(rows.records) + len(rows.failures)
    sizes = [int(s) for s in args.sizes.split(",")]
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="layout-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"# {events} events per transaction ({len(rows.records)} records, {len(rows.failures)} failures)")
    if args.pragma:
        print(f"# pragmas: {', '.join(args.pragma)}")
    print(f"# lsm levels: level 0 up to {LEVELS.first:,} ids, fanout {LEVELS.fanout}, merge {LEVELS.merge}")
    if args.filter:
        print(f"# Bloom filters: {FILTER_OPTIONS}")
    print(
        "layout | stored | cpu µs/event median / mean / own mean + merges amortised = amortised"
        " | wall median / mean"
        " | WAL frames/tx mean / amortised | bytes/event | free pages"
        " | get: cpu µs, queries (present / absent) | levels | load | fill s",
        flush=True,
    )
    for layout in args.layouts.split(","):
        path = workdir / f"{layout}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        MERGES.clear()
        REBUILDS.clear()
        SAVES.clear()
        FILTERS.clear()
        conn = open_store(path, layout, args.pragma)
        if args.filter:
            FILTERS.update({f: TableFilter(f, column, FILTER_OPTIONS["capacity"]) for f, column in FAMILIES})
        conn.execute("PRAGMA wal_autocheckpoint=0")  # by hand, in commit()
        done = 0
        for size in sizes:
            target = size // events
            took = fill(conn, layout, rows, done, target) if target > done else 0.0
            done = max(done, target)
            report(conn, path, layout, rows, done=done, transactions=args.transactions, took=took)
        conn.close()
        if not args.keep:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)


if __name__ == "__main__":
    main(sys.argv[1:])
