"""HTTP single events on one uvicorn worker, against the seed-style baseline, measured alternately.

Each run starts a fresh process per measurement, in this order: the gateway's ``POST /api/validate``, the
baseline's ``POST /api/validate``, the gateway's ``POST /v1/ingest/shipment/1`` (storing each event; the
store is new per run), the same with authentication on (a store holding an API key, every request sending
it), and the floor (:mod:`bench.floor_app`: the same uvicorn serving an app that does
nothing, the ceiling any endpoint could reach here). Ratios are taken run by run (ours of run *i* over
the baseline of run *i*), so a noisy machine moves both sides of each ratio together. Bodies: the mix of
well-formed events, a fresh shipment id per request, so every ingest request really stores a record or a
failure.
"""

from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from functools import partial

from bench import data, servers
from bench.context import Context
from bench.httpload import Measurement, Shape, figure, measure, problems, rss
from bench.stats import PartResult, Row, Target, ratios

RATIO_TARGET = Target(">=", 2.5)
P99_TARGET = Target("<=", 5.0)
INGEST_TARGET = Target(">=", 10_000)
AUTH_TARGET = Target(">=", 0.9)
"""Ingest with an API key keeps at least 90% of the open gateway's requests per second (issue 12)."""

VALIDATE = "/api/validate"
INGEST = "/v1/ingest/shipment/1"


def run(ctx: Context) -> PartResult:
    """Requests/s, p50 and p99 per endpoint, ours beside the baseline."""
    options = ctx.options
    shape = Shape(VALIDATE, _templates(ctx), "application/json", options.connections)
    ingest_shape = Shape(INGEST, shape.templates, "application/json", options.connections)
    ours: list[Measurement] = []
    theirs: list[Measurement] = []
    stored: list[Measurement] = []
    floors: list[Measurement] = []
    keyed: list[Measurement] = []
    for number in range(options.runs):
        print(f"bench: http-single run {number + 1}/{options.runs}")
        gateway = partial(_gateway, ctx, f"http-ingest-{number}.db")
        baseline = partial(servers.baseline, options.workdir)
        ours.append(measure(ctx, gateway, f"validate-ours-{number}", shape, stores=False))
        theirs.append(measure(ctx, baseline, f"validate-baseline-{number}", shape, stores=False))
        ingest = partial(measure, ctx, gateway, f"ingest-ours-{number}", ingest_shape, stores=True)
        open_first = number % 2 == 0  # open and keyed take turns going first, so that neither always
        if open_first:  # meets the machine as the other left it
            stored.append(ingest())
        keyed.append(_keyed(ctx, number, ingest_shape))
        if not open_first:
            stored.append(ingest())
        floor = partial(servers.floor, options.workdir)
        floors.append(measure(ctx, floor, f"floor-{number}", shape, stores=False))
    return _result(ctx, Sides(ours, theirs, stored, floors, keyed))


def _templates(ctx: Context) -> list[bytes]:
    return data.templates(50, seed=ctx.options.seed, valid_share=ctx.options.valid_share)


def _keyed(ctx: Context, number: int, shape: Shape) -> Measurement:
    """Ingest through a gateway whose store holds an API key, every request sending it."""
    store = f"http-keyed-{number}.db"
    token = servers.api_key(ctx.options.store_url(ctx.options.workdir / store), "ingest:shipment", "read")
    keyed = replace(shape, headers=(("Authorization", f"Bearer {token}"),))
    start = partial(_gateway, ctx, store, token=token)
    return measure(ctx, start, f"ingest-keyed-{number}", keyed, stores=True)


def _gateway(
    ctx: Context, store: str, name: str, token: str | None = None
) -> AbstractContextManager[servers.Server]:
    return servers.gateway(
        ctx.options.workdir, name, ctx.options.store_url(ctx.options.workdir / store), token
    )


@dataclass(frozen=True)
class Sides:
    """The measurements of every run, per server and endpoint."""

    ours: list[Measurement]
    theirs: list[Measurement]
    stored: list[Measurement]
    floors: list[Measurement]
    keyed: list[Measurement]
    """Ingest with authentication on."""


def _result(ctx: Context, sides: Sides) -> PartResult:
    ours, theirs, stored, floors, keyed = sides.ours, sides.theirs, sides.stored, sides.floors, sides.keyed
    rps = partial(figure, read=lambda m: m.result.rps)
    p50 = partial(figure, read=lambda m: m.result.p50_ms)
    p99 = partial(figure, read=lambda m: m.result.p99_ms)
    part = PartResult("http-single", "HTTP single events, one uvicorn worker, against the baseline")
    part.rows = [
        Row(f"POST {VALIDATE} · ours", rps(ours), "req/s", rss_mib=rss(ours), note=problems(ours)),
        Row(f"POST {VALIDATE} · baseline", rps(theirs), "req/s", rss_mib=rss(theirs), note=problems(theirs)),
        Row(f"{VALIDATE} ours ÷ baseline", ratios(rps(ours), rps(theirs)), "x", RATIO_TARGET),
        Row(f"{VALIDATE} p50 · ours", p50(ours), "ms"),
        Row(f"{VALIDATE} p99 · ours", p99(ours), "ms", P99_TARGET),
        Row(f"{VALIDATE} p50 · baseline", p50(theirs), "ms"),
        Row(f"{VALIDATE} p99 · baseline", p99(theirs), "ms"),
        Row(
            f"POST {INGEST} · ours, stored",
            rps(stored),
            "req/s",
            INGEST_TARGET,
            rss(stored),
            problems(stored),
        ),
        Row(f"{INGEST} ours ÷ baseline {VALIDATE}", ratios(rps(stored), rps(theirs)), "x"),
        Row(f"{INGEST} p50 · ours", p50(stored), "ms"),
        Row(f"{INGEST} p99 · ours", p99(stored), "ms"),
        Row(f"POST {INGEST} · ours, stored, with an API key", rps(keyed), "req/s", rss_mib=rss(keyed)),
        Row(f"{INGEST} with an API key ÷ open", ratios(rps(keyed), rps(stored)), "x", AUTH_TARGET),
        Row(f"{INGEST} p99 · with an API key", p99(keyed), "ms", note=problems(keyed)),
        Row("floor: uvicorn + an ASGI app that does nothing", rps(floors), "req/s", rss_mib=rss(floors)),
        Row(f"{VALIDATE} ours ÷ floor", ratios(rps(ours), rps(floors)), "x"),
    ]
    part.notes = _notes(ctx, stored)
    return part


def _notes(ctx: Context, stored: list[Measurement]) -> list[str]:
    options = ctx.options
    kept = sum(m.stored or 0 for m in stored)
    answered = sum(m.answered for m in stored)
    return [
        f"{ctx.generator().name}, {options.connections} connections, {options.duration:g} s per measurement "
        f"after a {options.warmup:g} s warm-up, {options.runs} runs; a fresh server process per measurement.",
        f"Bodies: {options.valid_share:.0%} valid shipments, the rest invalid in one of "
        f"{len(data.WELL_FORMED_KINDS)} ways (well-formed JSON), a fresh id per request.",
        f"Ingest store: SQLite, synchronous={options.sqlite_sync}; {kept:,} events stored for {answered:,} "
        "answered requests (warm-up included) over all runs.",
        "The load generator runs on the same machine as the server and takes CPU from it.",
    ]
