"""``sigma-aetl ingest`` of a JSON Lines file into SQLite, as a real subprocess of the CLI.

Each figure comes from the command's own ``--json`` summary (``events_per_second``: reading, validating
and storing, without interpreter start-up), with the wall clock (start-up included) and the process's
peak RSS beside it. Measured on a fresh store, on a store pre-filled to ``--prefill`` events, and for a
replay of the same file on each (every event a duplicate, nothing written).

The pre-fill is itself an ``ingest`` of a generated file (same generator, other ids) with
``--transaction-size 5000`` on ``synchronous=OFF``: the stored rows are exactly what the product writes,
and the prefill's own rate is reported too. Each sustained run then ingests a new file on top, so the
store holds ``prefill`` + (run x events) records when a run starts.

CPU per event, by process (the CLI's main process, its SQLite writer process): each run's CPU time (read
from /proc by :mod:`bench.procs`) less that of a start-up run right after it on the same store (an
``ingest`` of an empty file: interpreter, contracts, store and writer started and stopped, nothing read),
divided by the events read.
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
CPU_NOTE = (
    "CPU per event: user + system time of each process from /proc/PID/stat, sampled every 20 ms until it "
    "ends (the writer process found in /proc/PID/task/*/children), less a start-up run's (an `ingest` of "
    "an empty file on the same store right after), ÷ events read."
)


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

    @property
    def events(self) -> int:
        """Events read from the file."""
        return int(self.summary["events_read"])

    @property
    def stored(self) -> int:
        """Events stored anew (records and failures)."""
        return int(self.summary["accepted"]) + int(self.summary["failed"])


@dataclass(frozen=True)
class WithStartup:
    """A measured run and the start-up run that followed it on the same store."""

    run: Ingested
    startup: Ingested

    def cpu_us(self, which: str) -> float:
        """CPU µs per event of one process role (``main``, ``writer``, ``other``), start-up subtracted."""
        spent = self.run.measured.cpu.minus(self.startup.measured.cpu)
        return float(getattr(spent, which)) * 1e6 / max(self.run.events, 1)


def startup(options: Options, store: Path, name: str) -> Ingested:
    """An ``ingest`` of an empty file into ``store`` (product defaults): what start-up and stop cost."""
    empty = options.workdir / "empty.jsonl"
    empty.write_bytes(b"")
    return cli_ingest(options, store, empty, name)


def measured(options: Options, store: Path, file: Path, name: str) -> WithStartup:
    """``cli_ingest`` of ``file`` with product defaults, then a start-up run on the same store."""
    return WithStartup(cli_ingest(options, store, file, name), startup(options, store, f"{name}-startup"))


def cpu_rows(label: str, runs: list[WithStartup]) -> list[Row]:
    """CPU µs per event of the main process and of the writer process (and of any other child)."""
    roles = [("main", "main process"), ("writer", "writer process")]
    if any(m.run.measured.cpu.other for m in runs):
        roles.append(("other", "other child processes"))
    return [
        Row(f"{label} · CPU per event · {name}", Figure.of(m.cpu_us(which) for m in runs), "µs")
        for which, name in roles
    ]


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


def fresh_runs(options: Options) -> tuple[list[WithStartup], list[Ingested]]:
    """Ingest then replay one file, each run on a new store."""
    file = _file(options, "ingest-fresh", "F", options.seed)
    first, replay = [], []
    for run in range(options.runs):
        store = options.workdir / f"ingest-fresh-{run}.db"
        first.append(measured(options, store, file, f"ingest-fresh-{run}"))
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


def sustained_runs(options: Options, store: Path) -> tuple[list[WithStartup], list[Ingested]]:
    """Ingest then replay a new file per run, on the pre-filled store."""
    first, replay = [], []
    for run in range(options.runs):
        file = _file(options, f"ingest-big-{run}", f"S{run}", options.seed + run + 1)
        first.append(measured(options, store, file, f"ingest-big-{run}"))
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
    fresh_runs_, sustained_runs_ = [m.run for m in fresh], [m.run for m in sustained]
    part.rows = [
        _row("fresh store", fresh_runs_, FRESH_TARGET),
        _wall_row("fresh store, wall clock (start-up included)", fresh_runs_),
        *cpu_rows("fresh store", fresh),
        _row(
            "replay on the fresh store (all duplicates)", fresh_replay, note=expect(fresh_replay, new=False)
        ),
        _row(f"pre-fill 0 → {options.prefill:,} (batch {PREFILL_BATCH}, synchronous=OFF)", [filled]),
        _row(at, sustained_runs_, big_target, note=expect(sustained_runs_, new=True)),
        _wall_row(f"{at}, wall clock", sustained_runs_),
        *cpu_rows(at, sustained),
        _row(f"replay {at} (all duplicates)", sustained_replay, note=expect(sustained_replay, new=False)),
    ]
    part.notes = _notes(options, fresh_runs_)
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
        CPU_NOTE,
        f"The pre-fill is an `ingest` of a generated {options.prefill:,}-event file (same mix, other ids) "
        f"with --transaction-size {PREFILL_BATCH} on synchronous=OFF; each sustained run adds "
        f"{options.events:,} new events on top of it.",
    ]
