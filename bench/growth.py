"""Cost growth: ``sigma-aetl ingest`` on one SQLite store filled progressively to each of ``--sizes``.

One store, grown through the product: at each size the fill goes on from what the store holds to the
size, by ``ingest`` runs of generated :data:`CHUNK`-event files (fresh ids per chunk, each file deleted
after use, so a 20M fill never needs a 20M file) with ``--transaction-size 5000`` on ``synchronous=OFF``,
like the ingest part's pre-fill; the fill's own rate is reported per step. Then the measured figure:
``--runs`` ingests of a fresh ``--events`` file each with the product defaults (``synchronous=FULL``
unless ``--sqlite-sync`` says otherwise), each followed by a start-up run (an empty file) for the CPU per
event of each process. The measured runs stay in the store, so a step's runs start at its size plus what
the earlier runs of the step added. Beside each size: the ratio of its median to the size-0 median, and
the bytes on disk (database + WAL files) per stored event after the step.

Targets (issue 17): at 5,000,000 stored ≥ 60,000 events/s; at 20,000,000 within 25 % of the fresh
figure (a ratio ≥ 0.75).
"""

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench import data
from bench.context import Context
from bench.ingest import (
    CPU_NOTE,
    FRESH_TARGET,
    PREFILL_BATCH,
    SUSTAINED_AT,
    SUSTAINED_TARGET,
    Ingested,
    WithStartup,
    cli_ingest,
    cpu_rows,
    drop_store,
    expect,
    measured,
)
from bench.options import Options
from bench.stats import Figure, PartResult, Row, Target

CHUNK = 1_000_000
"""Events per generated fill file."""
RATIO_TARGET = Target(">=", 0.75)
RATIO_AT = 20_000_000
"""The store size the within-25 %-of-fresh target is set for."""
BYTES_PER_EVENT_GUESS = 1500
"""Bytes on disk per stored event assumed before the first step has measured it (about 1,220 at 1M)."""


@dataclass(frozen=True)
class Step:
    """What one size of the series measured."""

    size: int
    """Stored events when the step's first measured run started."""
    fill: list[Ingested]
    runs: list[WithStartup]
    disk_bytes: int
    stored_after: int

    @property
    def rate(self) -> Figure:
        """The measured runs' events/s."""
        return Figure.of(m.run.rate for m in self.runs)

    @property
    def filled(self) -> int:
        """Events the fill of this step stored."""
        return sum(run.stored for run in self.fill)


def chunks(start: int, stop: int, size: int = CHUNK) -> Iterator[tuple[int, int]]:
    """(first, count) of the fill files that take a store from ``start`` to ``stop`` events."""
    for first in range(start, stop, size):
        yield first, min(size, stop - first)


def fill_rate(fill: list[Ingested]) -> float | None:
    """Events/s of a fill made of several ingests: events over the sum of their own times; None if none."""
    seconds = sum(run.events / run.rate for run in fill if run.rate > 0)
    return sum(run.events for run in fill) / seconds if seconds > 0 else None


def ratios(steps: list[Step]) -> list[float]:
    """Each step's median events/s over the first step's (the fresh store's, when sizes start at 0)."""
    fresh = steps[0].rate.median
    return [step.rate.median / fresh if fresh > 0 else 0.0 for step in steps]


def disk_bytes(store: Path) -> int:
    """Bytes on disk of a SQLite store: the database file and its WAL files."""
    paths = (Path(f"{store}{suffix}") for suffix in ("", "-wal", "-shm"))
    return sum(path.stat().st_size for path in paths if path.exists())


def room_for(free: int, events: int, per_event: float) -> str:
    """Why ``events`` more events at ``per_event`` bytes each (and a fill file) do not fit in ``free`` bytes;
    empty when they do."""
    need = int(events * per_event) + CHUNK * 100
    if need <= free:
        return ""
    return f"growing the store by {events:,} events needs about {need / 1e9:.1f} GB; {free / 1e9:.1f} GB free"


def fill(options: Options, store: Path, start: int, stop: int) -> list[Ingested]:
    """Grow ``store`` from ``start`` to ``stop`` events through the CLI, one generated file per chunk."""
    done = []
    for first, count in chunks(start, stop):
        print(f"bench: growth fill {first:,} → {first + count:,}", flush=True)
        path = data.write_jsonl(
            options.workdir / "growth-fill.jsonl",
            count,
            prefix=f"G{first}",
            seed=options.seed + 7000 + first,
            valid_share=options.valid_share,
        )
        try:
            done.append(cli_ingest(options, store, path, "growth-fill", batch_size=PREFILL_BATCH, sync="OFF"))
        finally:
            path.unlink(missing_ok=True)
    return done


def step(options: Options, store: Path, number: int, size: int, stored: int) -> Step:
    """Fill up to ``size`` (from ``stored``), then the measured runs of fresh files on top."""
    per_event = disk_bytes(store) / stored if stored else BYTES_PER_EVENT_GUESS
    growing = max(size - stored, 0) + options.runs * options.events
    short = room_for(shutil.disk_usage(options.workdir).free, growing, per_event)
    if short:
        raise RuntimeError(f"not enough disk space in {options.workdir}: {short}")
    filled = fill(options, store, stored, size)
    at = stored + sum(run.stored for run in filled)
    runs = []
    for run in range(options.runs):
        print(f"bench: growth at {at:,} stored, run {run + 1}/{options.runs}", flush=True)
        path = data.write_jsonl(
            options.workdir / "growth-measured.jsonl",
            options.events,
            prefix=f"M{number:02d}R{run:02d}",
            seed=options.seed + 100 * number + run,
            valid_share=options.valid_share,
        )
        try:
            runs.append(measured(options, store, path, f"growth-{number}-{run}"))
        finally:
            path.unlink(missing_ok=True)
    after = at + sum(m.run.stored for m in runs)
    return Step(at, filled, runs, disk_bytes(store), after)


def series(options: Options, store: Path) -> list[Step]:
    """Every size of ``--sizes``, in increasing order, on one store."""
    steps: list[Step] = []
    stored = 0
    for number, size in enumerate(sorted(set(options.sizes))):
        steps.append(step(options, store, number, size, stored))
        stored = steps[-1].stored_after
    return steps


def run(ctx: Context) -> PartResult:
    """The series, then its table."""
    options = ctx.options
    store = options.workdir / "growth.db"
    drop_store(store)
    try:
        steps = series(options, store)
    finally:
        drop_store(store)
    part = PartResult("growth", "Cost growth: `sigma-aetl ingest` as one store grows")
    part.rows = table(steps)
    part.notes = notes(options)
    return part


def table(steps: list[Step]) -> list[Row]:
    """The rows of every step: fill rate, events/s, ratio to fresh, CPU per event, bytes per event."""
    rows: list[Row] = []
    for item, ratio in zip(steps, ratios(steps), strict=True):
        rows += step_rows(item, ratio)
    return rows


def step_rows(item: Step, ratio: float) -> list[Row]:
    """One step's rows."""
    at = f"at {item.size:,} stored"
    rows = []
    rate = fill_rate(item.fill)
    if rate is not None:
        what = f"fill {item.size - item.filled:,} → {item.size:,} (batch {PREFILL_BATCH}, synchronous=OFF)"
        rows.append(Row(what, Figure.of([rate]), "events/s"))
    rss = Figure.of(m.run.measured.peak_rss_mib for m in item.runs)
    note = expect([m.run for m in item.runs], new=True)
    rows += [
        Row(at, item.rate, "events/s", rate_target(item.size), rss, note),
        Row(f"{at} · ratio to the first size", Figure.of([ratio]), "x", ratio_target(item.size)),
        *cpu_rows(at, item.runs),
        Row(
            f"{at} · bytes on disk per stored event",
            Figure.of([item.disk_bytes / max(item.stored_after, 1)]),
            "B",
            note=f"{item.disk_bytes / 1e6:,.0f} MB for {item.stored_after:,} stored, after the step",
        ),
    ]
    return rows


def rate_target(size: int) -> Target | None:
    """The events/s target at ``size``: fresh at 0, sustained at 5M and more."""
    if size == 0:
        return FRESH_TARGET
    return SUSTAINED_TARGET if size >= SUSTAINED_AT else None


def ratio_target(size: int) -> Target | None:
    """The ratio target: within 25 % of fresh from 20M stored on."""
    return RATIO_TARGET if size >= RATIO_AT else None


def notes(options: Options) -> list[str]:
    """How the series was measured."""
    sizes = ", ".join(f"{size:,}" for size in sorted(set(options.sizes)))
    return [
        f"One store grown to each size ({sizes}) through `sigma-aetl ingest`: fill files of up to "
        f"{CHUNK:,} generated events ({options.valid_share:.0%} valid, fresh ids), --transaction-size "
        f"{PREFILL_BATCH}, synchronous=OFF; each file deleted after use.",
        f"At each size {options.runs} runs, each a fresh {options.events:,}-event file with the product's "
        f"defaults (synchronous={options.sqlite_sync}); the runs stay in the store, so a size's later runs "
        "start a little above it. events/s is the CLI's own `events_per_second`; the ratio is the median "
        "over the first size's median.",
        CPU_NOTE,
        "Bytes on disk: the database file plus its -wal and -shm files after the step's last run "
        "(the CLI checkpoints on close), ÷ the events stored by then (records and failures).",
    ]
