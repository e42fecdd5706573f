"""``sigma-aetl replay`` of stored failures into a new contract version, as a real subprocess of the CLI.

The store is filled by ``sigma-aetl ingest`` of ``--events`` shipment@2-shaped events sent to shipment@1
(a producer bug: every one a failure). Then ``sigma-aetl replay --to shipment@2`` replays them all (every
one passes and becomes a record with lineage, its failure a resolution), and the same replay again (every
one a duplicate, nothing written). Failures/s is the replay's own, from its run's ``started_at`` and
``finished_at`` (without interpreter start-up); the wall clock and peak RSS are beside it.
"""

import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from bench import procs
from bench.context import Context
from bench.ingest import cli_ingest, drop_store
from bench.options import CONTRACTS, Options
from bench.stats import Figure, PartResult, Row


@dataclass(frozen=True)
class Replayed:
    """One ``sigma-aetl replay --json`` run."""

    run: dict[str, Any]
    measured: procs.Measured

    @property
    def rate(self) -> float:
        """Failures/s as the run measured it."""
        started = datetime.fromisoformat(self.run["started_at"])
        finished = datetime.fromisoformat(self.run["finished_at"])
        return float(self.run["summary"]["selected"]) / max((finished - started).total_seconds(), 1e-9)


def v2_shaped_file(path: Path, count: int, seed: int) -> Path:
    """``count`` distinct shipments in shipment@2's shape (a service level, no priority)."""
    levels = ("express", "standard", "economy")
    with path.open("wb") as out:
        for n in range(count):
            event = {"shipment_id": f"R{seed}-{n}", "weight_kg": 1 + n % 900, "destination": "Cork"}
            out.write(orjson.dumps({**event, "service_level": levels[n % 3]}) + b"\n")
    return path


def cli_replay(options: Options, store: Path, name: str) -> Replayed:
    """Run ``sigma-aetl replay --to shipment@2`` over ``store``; raise if it fails."""
    command = [
        *(sys.executable, "-m", "sigma_aetl", "--store", options.store_url(store)),
        *("--contracts", str(CONTRACTS), "replay", "--to", "shipment@2", "--allow-draft", "--json"),
    ]
    log = options.workdir / f"{name}.log"
    measured = procs.run_measured(command, log, timeout=120 + options.events / 500)
    if measured.returncode != 0:
        raise RuntimeError(f"sigma-aetl replay failed ({measured.returncode}):\n{procs.tail(log)}")
    return Replayed(orjson.loads(measured.stdout), measured)


def runs(options: Options) -> tuple[list[Replayed], list[Replayed]]:
    """Per run, a fresh store of failures: the replay, then the same replay again."""
    first, again = [], []
    for run in range(options.runs):
        store = options.workdir / f"replay-{run}.db"
        file = v2_shaped_file(options.workdir / f"replay-{run}.jsonl", options.events, options.seed + run)
        cli_ingest(options, store, file, f"replay-fill-{run}")
        first.append(cli_replay(options, store, f"replay-{run}"))
        again.append(cli_replay(options, store, f"replay-again-{run}"))
        drop_store(store)
        file.unlink()
    return first, again


def run(ctx: Context) -> PartResult:
    """The replay and the same replay again."""
    options = ctx.options
    first, again = runs(options)
    part = PartResult("replay", "`sigma-aetl replay` of stored failures into shipment@2 (SQLite)")
    part.rows = [
        _row(f"replay of {options.events:,} failures (every one passes)", first, "replayed"),
        _row("the same replay again (every one a duplicate)", again, "duplicates"),
    ]
    part.notes = [
        f"{options.events:,} shipment@2-shaped events ingested as shipment@1 failures, {options.runs} runs, "
        f"each on a fresh store; store URL option synchronous={options.sqlite_sync}.",
        "failures/s is the run's own (started_at to finished_at); peak RSS is the process's VmHWM, polled.",
    ]
    return part


def _row(metric: str, replays: list[Replayed], counter: str) -> Row:
    rss = Figure.of(replayed.measured.peak_rss_mib for replayed in replays)
    short = [r for r in replays if r.run["summary"][counter] != r.run["summary"]["selected"]]
    note = f"⚠ {len(short)} runs where not every failure was {counter}" if short else ""
    return Row(metric, Figure.of(replayed.rate for replayed in replays), "failures/s", None, rss, note)
