"""HTTP ingest with serve's background advisor: off, slow (10 s), failing (500), unreachable, garbage.

Each measurement starts a fresh ``sigma-aetl serve`` on a fresh SQLite store, with the advisor off (no
``SIGMA_AETL_ADVISOR_URL``) or pointed at a scripted Ollama server (``sigma_aetl.scripted_ollama``)
answering in one way, and loads ``POST /v1/ingest/shipment/1`` with the usual mix of valid and invalid
shipments. The advisor runs in failure scope (every failure is a job, the most work it can be given) and
polls every second, so it is busy for the whole measurement: calls that sleep 10 s, fail at once, find
no server, or answer garbage, retried with backoff and through its breaker. Two more modes fail the same
ways in class scope, the default (one job per failure class). The modes take turns within a
run, and ratios to advisor-off are taken run by run: ingestion never waits for the advisor, so every
ratio should be within noise of 1.
"""

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from functools import partial
from pathlib import Path

from bench import data, procs
from bench.context import Context
from bench.httpload import Measurement, Shape, figure, measure, problems, rss
from bench.servers import Server, gateway_command
from bench.stats import PartResult, Row, Target, ratios
from sigma_aetl.scripted_ollama import ScriptedOllama, unreachable_url

INGEST = "/v1/ingest/shipment/1"
MODES = ("off", "slow", "500", "unreachable", "garbage", "500 class", "unreachable class")
"""How the model answers, then `` class`` for class scope (failure scope otherwise)."""
RATIO_TARGET = Target(">=", 0.9)
"""Ingest with the advisor in any state keeps at least 90% of advisor-off's requests per second."""
SLOW_SECONDS = 10.0


def run(ctx: Context) -> PartResult:
    """Requests/s and p99 of ingest per advisor mode, and each mode's ratio to advisor-off."""
    options = ctx.options
    templates = data.templates(50, seed=options.seed, valid_share=options.valid_share)
    shape = Shape(INGEST, templates, "application/json", options.connections)
    measured: dict[str, list[Measurement]] = {mode: [] for mode in MODES}
    for number in range(options.runs):
        print(f"bench: advisor run {number + 1}/{options.runs}")
        order = MODES[number % len(MODES) :] + MODES[: number % len(MODES)]  # each mode goes first in turn
        for mode in order:
            name = f"advisor-{mode.replace(' ', '-')}-{number}"
            start = partial(_gateway, ctx, mode, f"{name}.db")
            measured[mode].append(measure(ctx, start, name, shape, stores=True))
    return _result(ctx, measured)


def _gateway(ctx: Context, mode: str, store: str, name: str) -> AbstractContextManager[Server]:
    return _serving(ctx.options.workdir, name, ctx.options.store_url(ctx.options.workdir / store), mode)


@contextmanager
def _serving(workdir: Path, name: str, store_url: str, mode: str) -> Iterator[Server]:
    """The gateway with its background advisor in ``mode``, and the scripted server it calls."""
    answer, _, scope = mode.partition(" ")
    with _model(answer) as url:
        env = {"SIGMA_AETL_LOG_LEVEL": "warning"}
        if url is not None:
            env |= {
                "SIGMA_AETL_ADVISOR_URL": url,
                "SIGMA_AETL_ADVISOR_SCOPE": scope or "failure",
                "SIGMA_AETL_ADVISOR_POLL_INTERVAL": "1",
                "SIGMA_AETL_ADVISOR_TIMEOUT": str(SLOW_SECONDS * 2),
                "SIGMA_AETL_ADVISOR_BACKOFF": "0.5",
                "SIGMA_AETL_ADVISOR_BREAKER_COOLDOWN": "2",
            }
        port = procs.free_port()
        log = workdir / f"{name}.log"
        with procs.running(gateway_command(port, store_url), log, env) as proc:
            procs.wait_port(port, proc, log)
            yield Server(name, proc, port)


def _model(mode: str) -> AbstractContextManager[str | None]:
    if mode == "off":
        return nullcontext(None)
    if mode == "unreachable":
        return nullcontext(unreachable_url())
    return _scripted(mode)


@contextmanager
def _scripted(mode: str) -> Iterator[str]:
    with ScriptedOllama(mode, delay=SLOW_SECONDS) as server:
        yield server.url


def _result(ctx: Context, measured: dict[str, list[Measurement]]) -> PartResult:
    rps = partial(figure, read=lambda m: m.result.rps)
    p99 = partial(figure, read=lambda m: m.result.p99_ms)
    off = measured["off"]
    part = PartResult("advisor", "HTTP ingest with serve's background advisor in each state")
    for mode in MODES:
        runs = measured[mode]
        label = "advisor off" if mode == "off" else f"advisor {_words(mode)}"
        part.rows.append(
            Row(f"POST {INGEST} · {label}", rps(runs), "req/s", rss_mib=rss(runs), note=problems(runs))
        )
        part.rows.append(Row(f"{INGEST} p99 · {label}", p99(runs), "ms"))
        if mode != "off":
            part.rows.append(Row(f"{label} ÷ advisor off", ratios(rps(runs), rps(off)), "x", RATIO_TARGET))
    options = ctx.options
    part.notes = [
        f"{ctx.generator().name}, {options.connections} connections, {options.duration:g} s per measurement "
        f"after a {options.warmup:g} s warm-up, {options.runs} runs; a fresh server and store each time.",
        "The advisor runs inside serve on its own thread, loop and store handle, in failure scope (class "
        "scope where the mode says so), polling every 1 s; the scripted Ollama server runs in the "
        "benchmark's own process.",
        f"Bodies: {options.valid_share:.0%} valid shipments, the rest invalid (each failure is a job).",
    ]
    return part


def _words(mode: str) -> str:
    answer, _, scope = mode.partition(" ")
    words = {
        "slow": f"slow ({SLOW_SECONDS:g} s)",
        "500": "failing (500)",
        "unreachable": "unreachable",
        "garbage": "answering garbage",
    }[answer]
    return f"{words}, class scope" if scope else words
