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

Run: ``python -m bench.layout --sizes 0,1000000,5000000 --layouts product,intkey``.
"""

import argparse
import hashlib
import os
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from bench import data
from sigma_aetl.contracts.loader import load_registry
from sigma_aetl.examples import CONTRACTS as CONTRACTS_DIR
from sigma_aetl.ingest.files import FileSource
from sigma_aetl.ingest.pipeline import Pipeline
from sigma_aetl.stores import metadata
from sigma_aetl.stores.sqlite import classes, rollups
from sigma_aetl.stores.sqlite.apply import INSERT_FAILURE, apply
from sigma_aetl.stores.sqlite.rows import Rows, rows_of
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


def open_store(path: Path, layout: str) -> sqlite3.Connection:
    """A store with the product's schema, changed as ``layout`` says; a plain connection to it."""
    SqliteStore.from_url(f"sqlite:///{path}").close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA cache_size=-65536")  # the product writer's pragmas (stores/sqlite/store.py)
    conn.execute("PRAGMA wal_autocheckpoint=20000")
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
    return conn


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
    conn.executemany(
        "INSERT OR IGNORE INTO failure_paths VALUES (?, ?)",
        [(p, frowid[f]) for p, f in rows.fields if f in frowid],
    )
    classes.keep(conn, rows.classes, rows.producers, fresh, [])
    classes.keep_activity(conn, rows.producers, new_records)
    rollups.keep(conn, rows.producers, new_records, fresh)
    return found_records, found_failures


APPLY: dict[str, Apply] = {"product": apply, "intkey": intkey_apply}


def cpu() -> float:
    """This process's CPU seconds so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def fill(conn: sqlite3.Connection, layout: str, rows: Rows, start: int, stop: int) -> float:
    """Add batches ``start..stop`` (each ``rows`` renamed) on synchronous=OFF, 10 batches a transaction."""
    conn.execute("PRAGMA synchronous=OFF")
    began = time.perf_counter()
    for first in range(start, stop, 10):
        conn.execute("BEGIN IMMEDIATE")
        for tag in range(first, min(first + 10, stop)):
            APPLY[layout](conn, scrambled(rows, tag))
        conn.execute("COMMIT")
    return time.perf_counter() - began


def measure(conn: sqlite3.Connection, layout: str, rows: Rows, start: int, count: int) -> tuple[float, float]:
    """Median CPU and wall µs per event of ``count`` 1,000-event transactions on synchronous=FULL."""
    conn.execute("PRAGMA synchronous=FULL")
    batches = [scrambled(rows, tag) for tag in range(start, start + count)]
    events = len(rows.records) + len(rows.failures)
    cpus, walls = [], []
    for batch in batches:
        c0, w0 = cpu(), time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        APPLY[layout](conn, batch)
        conn.execute("COMMIT")
        cpus.append((cpu() - c0) / events * 1e6)
        walls.append((time.perf_counter() - w0) / events * 1e6)
    return statistics.median(cpus), statistics.median(walls)


def main(argv: list[str]) -> None:
    """Measure each layout at each size and print a table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="0,1000000")
    parser.add_argument("--layouts", default="product,intkey")
    parser.add_argument("--transactions", type=int, default=100)
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args(argv)
    rows = template_rows(1000)
    events = len(rows.records) + len(rows.failures)
    sizes = [int(s) for s in args.sizes.split(",")]
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="layout-"))
    print(f"# {events} events per transaction ({len(rows.records)} records, {len(rows.failures)} failures)")
    print(f"# load {os.getloadavg()}")
    print("layout | stored | cpu µs/event | wall µs/event | bytes/event | fill s")
    for layout in args.layouts.split(","):
        path = workdir / f"{layout}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        conn = open_store(path, layout)
        done = 0
        for size in sizes:
            target = size // events
            took = fill(conn, layout, rows, done, target) if target > done else 0.0
            done = max(done, target)
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cpu_us, wall_us = measure(conn, layout, rows, 10_000_000 + done, args.transactions)
            done_rows = done * events
            files = [Path(f"{path}{s}") for s in ("", "-wal")]
            disk = sum(file.stat().st_size for file in files if file.exists())
            per = disk / max(done_rows + args.transactions * events, 1)
            print(
                f"{layout} | {done_rows:,} | {cpu_us:.1f} | {wall_us:.1f} | {per:.0f} | {took:.0f}",
                flush=True,
            )
        conn.close()


if __name__ == "__main__":
    main(sys.argv[1:])
