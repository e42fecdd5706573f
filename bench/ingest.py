"""``sigma-aetl ingest`` of a JSON Lines file into SQLite, as a real subprocess of the CLI.

Each figure comes from the command's own ``--json`` summary (``events_per_second``: reading, validating
and storing, without interpreter start-up), with the wall clock (start-up included) and the process's
peak RSS beside it. Measured on a fresh store, on a store pre-filled to ``--prefill`` events, and for a
replay of the same file on each (every event a duplicate, nothing written).

The pre-fill is itself an ``ingest`` of a generated file (same generator, other ids) with
``--transaction-size 5000`` on ``synchronous=OFF``: the stored rows are exactly what the product writes,
and the prefill's own rate is reported too. Each sustained run then ingests a new file on top, so the
store holds ``prefill`` + (run x events) records when a run starts.
"""

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from bench import data, procs
from bench.context import Context
from bench.options import CONTRACTS, Options
from bench.stats import Figure, PartResult, Row, Target

FRESH_TARGET = Target(">=", 100_000)
SUSTAINED_TARGET = Target(">=", 60_000)
SUSTAINED_AT = 5_000_000
"""The store size the sustained target is set for."""
PREFILL_BATCH = 5000


@dataclass(frozen=True)
class Ingested:
    """One ``sigma-aetl ingest --json`` run."""

    summary: dict[str, Any]
    measured: procs.Measured

    @property
    def rate(self) -> float:
        """Events/s as the command measured it."""
        return float(self.summary["events_per_second"])

    @property
    def wall_rate(self) -> float:
        """Events/s over the whole process lifetime."""
        return float(self.summary["events_read"]) / self.measured.wall_seconds


def cli_ingest(
    options: Options,
    store: Path,
    file: Path,
    name: str,
    *,
    batch_size: int | None = None,
    sync: str | None = None,
) -> Ingested:
    """Run the CLI on ``file`` into ``store``; raise if it fails."""
    command = [
        *(sys.executable, "-m", "sigma_aetl", "--store", options.store_url(store, sync)),
        *("--contracts", str(CONTRACTS), "ingest", "shipment@1", str(file), "--json"),
        *(("--transaction-size", str(batch_size)) if batch_size else ()),
    ]
    log = options.workdir / f"{name}.log"
    lines = sum(1 for _ in file.open("rb"))
    measured = procs.run_measured(command, log, timeout=120 + lines / 500)
    if measured.returncode != 0:
        raise RuntimeError(f"sigma-aetl ingest failed ({measured.returncode}):\n{procs.tail(log)}")
    return Ingested(orjson.loads(measured.stdout), measured)


def expect(runs: list[Ingested], *, new: bool) -> str:
    """A warning unless every event was stored anew (``new``) or found a duplicate (a replay)."""
    for run in runs:
        counted = run.summary["accepted"] + run.summary["failed"] if new else run.summary["duplicates"]
        if counted != run.summary["events_read"]:
            what = "stored anew" if new else "duplicates"
            return f"⚠ only {counted:,} of {run.summary['events_read']:,} {what}"
    return ""


def drop_store(path: Path) -> None:
    """Delete a SQLite store with its WAL files."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def fresh_runs(options: Options) -> tuple[list[Ingested], list[Ingested]]:
    """Ingest then replay one file, each run on a new store."""
    file = _file(options, "ingest-fresh", "F", options.seed)
    first, replay = [], []
    for run in range(options.runs):
        store = options.workdir / f"ingest-fresh-{run}.db"
        first.append(cli_ingest(options, store, file, f"ingest-fresh-{run}"))
        replay.append(cli_ingest(options, store, file, f"ingest-fresh-replay-{run}"))
        drop_store(store)
    return first, replay


def prefill(options: Options, store: Path) -> Ingested:
    """Fill ``store`` with ``--prefill`` events through the CLI (fast settings; see the module docstring)."""
    print(f"bench: pre-filling a store with {options.prefill:,} events (this can take minutes)")
    file = _file(options, "ingest-prefill", "P", options.seed + 1000, count=options.prefill)
    try:
        return cli_ingest(options, store, file, "ingest-prefill", batch_size=PREFILL_BATCH, sync="OFF")
    finally:
        file.unlink(missing_ok=True)


def sustained_runs(options: Options, store: Path) -> tuple[list[Ingested], list[Ingested]]:
    """Ingest then replay a new file per run, on the pre-filled store."""
    first, replay = [], []
    for run in range(options.runs):
        file = _file(options, f"ingest-big-{run}", f"S{run}", options.seed + run + 1)
        first.append(cli_ingest(options, store, file, f"ingest-big-{run}"))
        replay.append(cli_ingest(options, store, file, f"ingest-big-replay-{run}"))
        file.unlink()
    return first, replay


def _file(options: Options, name: str, prefix: str, seed: int, count: int | None = None) -> Path:
    path = options.workdir / f"{name}.jsonl"
    return data.write_jsonl(
        path,
        options.events if count is None else count,
        prefix=prefix,
        seed=seed,
        valid_share=options.valid_share,
    )


def run(ctx: Context) -> PartResult:
    """Fresh, replay, pre-fill, sustained and sustained replay."""
    options = ctx.options
    fresh, fresh_replay = fresh_runs(options)
    store = options.workdir / "ingest-big.db"
    try:
        filled = prefill(options, store)
        sustained, sustained_replay = sustained_runs(options, store)
    finally:
        drop_store(store)
    part = PartResult("ingest", "`sigma-aetl ingest` of a JSON Lines file into SQLite")
    at = f"at {options.prefill:,} stored"
    big_target = SUSTAINED_TARGET if options.prefill >= SUSTAINED_AT else None
    part.rows = [
        _row("fresh store", fresh, FRESH_TARGET),
        _wall_row("fresh store, wall clock (start-up included)", fresh),
        _row(
            "replay on the fresh store (all duplicates)", fresh_replay, note=expect(fresh_replay, new=False)
        ),
        _row(f"pre-fill 0 → {options.prefill:,} (batch {PREFILL_BATCH}, synchronous=OFF)", [filled]),
        _row(at, sustained, big_target, note=expect(sustained, new=True)),
        _wall_row(f"{at}, wall clock", sustained),
        _row(f"replay {at} (all duplicates)", sustained_replay, note=expect(sustained_replay, new=False)),
    ]
    part.notes = _notes(options, fresh)
    return part


def _row(metric: str, runs: list[Ingested], target: Target | None = None, *, note: str = "") -> Row:
    rss = Figure.of(run.measured.peak_rss_mib for run in runs)
    return Row(metric, Figure.of(run.rate for run in runs), "events/s", target, rss, note)


def _wall_row(metric: str, runs: list[Ingested]) -> Row:
    return Row(metric, Figure.of(run.wall_rate for run in runs), "events/s")


def _notes(options: Options, fresh: list[Ingested]) -> list[str]:
    summary = fresh[0].summary
    return [
        f"{options.events:,} events per file ({options.valid_share:.0%} valid; {summary['accepted']:,} "
        f"records and {summary['failed']:,} failures stored), {options.runs} runs, default transaction size, "
        f"store URL option synchronous={options.sqlite_sync}.",
        "events/s is the CLI's own `events_per_second` (after start-up); peak RSS is its VmHWM, polled.",
        f"The pre-fill is an `ingest` of a generated {options.prefill:,}-event file (same mix, other ids) "
        f"with --transaction-size {PREFILL_BATCH} on synchronous=OFF; each sustained run adds "
        f"{options.events:,} new events on top of it.",
    ]
