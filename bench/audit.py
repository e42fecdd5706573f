"""``sigma-aetl audit`` over a store of ``--audit-events`` stored events, as a real subprocess of the CLI.

The store is filled once by an ``ingest`` of a generated file (the usual mix, ``--valid-share`` valid),
with ``--transaction-size 5000`` on ``synchronous=OFF`` as the ingest part's pre-fill does, so it holds
exactly what the product writes. Each run then audits the whole store (accepted records and failures,
each judged again from its raw bytes); the figure is stored events checked per second of the command's
wall clock (start-up included, a fraction of a second), with its peak RSS: the audit reads in batches,
so memory must stay flat however large the store.
"""

import sys
from pathlib import Path
from typing import Any

import orjson

from bench import data, ingest, procs
from bench.context import Context
from bench.options import CONTRACTS, Options
from bench.stats import Figure, PartResult, Row


def cli_audit(options: Options, store: Path, name: str) -> tuple[dict[str, Any], procs.Measured]:
    """Run ``sigma-aetl audit --json`` on ``store``; its report and measurements (exit 1 is drift)."""
    command = [
        *(sys.executable, "-m", "sigma_aetl", "--store", options.store_url(store)),
        *("--contracts", str(CONTRACTS), "audit", "--json"),
    ]
    log = options.workdir / f"{name}.log"
    measured = procs.run_measured(command, log, timeout=120 + options.audit_events / 1000)
    if measured.returncode not in (0, 1):
        raise RuntimeError(f"sigma-aetl audit failed ({measured.returncode}):\n{procs.tail(log)}")
    return orjson.loads(measured.stdout), measured


def fill(options: Options, store: Path) -> ingest.Ingested:
    """Store ``--audit-events`` generated events through ``ingest`` (fast settings)."""
    print(f"bench: filling a store with {options.audit_events:,} events to audit")
    path = options.workdir / "audit-fill.jsonl"
    data.write_jsonl(
        path, options.audit_events, prefix="A", seed=options.seed + 2000, valid_share=options.valid_share
    )
    try:
        return ingest.cli_ingest(
            options, store, path, "audit-fill", batch_size=ingest.PREFILL_BATCH, sync="OFF"
        )
    finally:
        path.unlink(missing_ok=True)


def run(ctx: Context) -> PartResult:
    """Fill a store, then audit all of it ``--runs`` times."""
    options = ctx.options
    store = options.workdir / "audit.db"
    try:
        filled = fill(options, store)
        runs = [cli_audit(options, store, f"audit-{run}") for run in range(options.runs)]
    finally:
        ingest.drop_store(store)
    reports = [report for report, _ in runs]
    rates = Figure.of(report["checked"] / measured.wall_seconds for report, measured in runs)
    rss = Figure.of(measured.peak_rss_mib for _, measured in runs)
    drift = "" if all(report["identical"] == report["checked"] for report in reports) else "⚠ drift found"
    part = PartResult("audit", "`sigma-aetl audit` of a whole SQLite store")
    part.rows = [
        Row(f"audit of {reports[0]['checked']:,} stored events", rates, "events/s", None, rss, drift)
    ]
    part.notes = [
        f"{options.audit_events:,} events ingested ({filled.summary['accepted']:,} records, "
        f"{filled.summary['failed']:,} failures, {options.valid_share:.0%} valid), then audited whole, "
        f"{options.runs} runs; store URL option synchronous={options.sqlite_sync}.",
        "events/s is stored events checked per second of the command's wall clock (start-up included); "
        "peak RSS is its VmHWM, polled. Every run found every decision identical"
        + ("." if not drift else " — except as noted."),
    ]
    return part
