"""The soak part: is the gateway's resident memory flat under sustained load?

It runs ``POST /v1/ingest/shipment/1`` single events (the path that allocates the most per request: parse,
records, store, response) against one gateway for ``--minutes``, sampling VmRSS every few seconds
(:class:`bench.memory.Sampler`), and reports the growth after warm-up (:func:`bench.memory.growth`).
"""

from dataclasses import dataclass

from bench import data, servers
from bench.context import Context
from bench.loadgen import Load
from bench.memory import Growth, Sampler, growth
from bench.stats import Figure, PartResult, Row, Target

GROWTH_TARGET = Target("<=", 5.0)
"""Flat: at most 5 % more resident memory at the end of the soak than after warm-up."""


@dataclass(frozen=True)
class Soaked:
    """What one soak observed."""

    moved: Growth
    samples: int
    rps: float
    stored: int
    peak_mib: float


def run(ctx: Context) -> PartResult:
    """The soak: sustained single-event ingest, RSS sampled throughout."""
    options = ctx.options
    store = options.workdir / "soak.db"
    with servers.gateway(options.workdir, "soak-gateway", options.store_url(store)) as server:
        load = Load(
            url=f"{server.url}/v1/ingest/shipment/1",
            templates=data.templates(50, seed=options.seed, valid_share=options.valid_share),
            content_type="application/json",
            prefix="soak",
            connections=options.connections,
            duration=options.soak_minutes * 60,
        )
        with Sampler(server.proc.pid, options.soak_interval) as sampler:
            result = ctx.generator().run(load, options.workdir)
        soaked = Soaked(
            growth(sampler.samples), len(sampler.samples), result.rps, server.stored(), server.peak_rss_mib()
        )
    return _result(ctx, soaked)


def _result(ctx: Context, soaked: Soaked) -> PartResult:
    options = ctx.options
    one = Figure.of
    moved = soaked.moved
    part = PartResult("memory", f"Memory under sustained load (soak, {options.soak_minutes:g} min)")
    part.rows = [
        Row("RSS after warm-up", one([moved.start_mib]), "MiB"),
        Row("RSS at the end", one([moved.end_mib]), "MiB", rss_mib=one([soaked.peak_mib])),
        Row("RSS growth after warm-up", one([moved.percent]), "%", GROWTH_TARGET, note="flat = pass"),
        Row("RSS slope (least squares)", one([moved.slope_mib_per_min]), "MiB/min"),
        Row(
            "POST /v1/ingest/shipment/1 during the soak",
            one([soaked.rps]),
            "req/s",
            note=f"{soaked.stored:,} events stored",
        ),
    ]
    part.notes = [
        f"One gateway, {options.connections} connections of {ctx.generator().name} for "
        f"{options.soak_minutes:g} min; VmRSS sampled every {options.soak_interval:g} s "
        f"({soaked.samples} samples); one long run, so each figure is a single sample.",
        "Every event has a distinct id, so the store grows throughout: memory must not.",
    ]
    return part
