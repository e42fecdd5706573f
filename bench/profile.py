"""Profiles: where the time goes in file ingest and in the HTTP endpoints (sampled with :mod:`bench.pyspy`).

- ``bench/run profile ingest``: a real ``sigma-aetl ingest`` of a mixed file, sampled from start to end; the
  view keeps the samples under the ingest loop (``ingest_cmd.run``), so interpreter start-up is left out.
- ``profile http-ingest`` / ``http-validate`` / ``http-batch``: a gateway under its part's load, sampled
  twice at once: the thread holding the GIL (where the CPU goes; its sample count over the time also says
  how busy the one core a worker can use really is) and all threads (where they wait: the store's lock,
  fsync at COMMIT, the event loop in epoll).
"""

import sys
from dataclasses import dataclass

from bench import data, ingest, pyspy, servers
from bench.context import Context
from bench.http_single import INGEST, VALIDATE
from bench.loadgen import Load
from bench.options import CONTRACTS

TARGETS = ("ingest", "http-ingest", "http-validate", "http-batch")
INGEST_LOOP = "run (sigma_aetl/cli/ingest_cmd.py)"


@dataclass(frozen=True)
class Profile:
    """What a profile found: one or more views, and how busy the GIL was (HTTP targets)."""

    target: str
    how: str
    views: list[pyspy.View]
    gil_busy: float | None = None


def profile_ingest(ctx: Context) -> Profile:
    """``sigma-aetl ingest`` of one mixed file into a fresh store."""
    options = ctx.options
    file = data.write_jsonl(
        options.workdir / "profile.jsonl",
        options.events,
        prefix="PF",
        seed=options.seed,
        valid_share=options.valid_share,
    )
    store = options.workdir / "profile.db"
    command = [
        *(sys.executable, "-m", "sigma_aetl", "--store", options.store_url(store)),
        *("--contracts", str(CONTRACTS), "ingest", "shipment@1", str(file), "--json"),
    ]
    out = options.workdir / "profile-ingest.pyspy.txt"
    pyspy.record_command(out, command, options.workdir)
    ingest.drop_store(store)
    raw = out.read_text()
    whole = pyspy.read(raw, "the whole process")
    loop = pyspy.read(raw, "the ingest loop (start-up excluded)", focus=INGEST_LOOP)
    share = loop.total / max(whole.total, 1)
    how = (
        f"`sigma-aetl ingest` of {options.events:,} events ({options.valid_share:.0%} valid) into a fresh "
        f"store (synchronous={options.sqlite_sync}); the loop is {share:.0%} of the samples, "
        "start-up the rest"
    )
    return Profile("ingest", how, [loop if loop.total else whole])


def profile_http(ctx: Context, target: str) -> Profile:
    """A gateway under its part's load while py-spy samples it (GIL holder and all threads at once)."""
    options = ctx.options
    path, templates, content_type, connections = _http_shape(ctx, target)
    store = options.store_url(options.workdir / f"profile-{target}.db")
    seconds = options.profile_seconds
    outs = [options.workdir / f"profile-{target}-{kind}.pyspy.txt" for kind in ("gil", "all")]
    with servers.gateway(options.workdir, f"profile-{target}", store) as server:
        load = Load(server.url + path, templates, content_type, f"pf-{target}", connections, seconds + 2)
        spies = [
            pyspy.record_pid(out, server.proc.pid, seconds, gil=gil)
            for out, gil in zip(outs, (True, False), strict=True)
        ]
        try:
            result = ctx.generator().run(load, options.workdir)
        finally:
            for spy in spies:
                spy.wait(timeout=seconds + 60)
    on_cpu = pyspy.read(outs[0].read_text(), "on CPU: the thread holding the GIL")
    waiting = pyspy.read(outs[1].read_text(), "all threads, waiting included")
    how = (
        f"gateway under POST {path} ({connections} connections, {ctx.generator().name}, "
        f"{result.rps:,.0f} req/s while sampled) for {seconds:g} s"
    )
    return Profile(target, how, [on_cpu, waiting], gil_busy=on_cpu.total / (pyspy.RATE * seconds))


def _http_shape(ctx: Context, target: str) -> tuple[str, list[bytes], str, int]:
    options = ctx.options
    if target == "http-batch":
        body = data.batch_template(options.batch_events, seed=options.seed, valid_share=options.valid_share)
        return INGEST, [body], "application/x-ndjson", options.batch_connections
    templates = data.templates(50, seed=options.seed, valid_share=options.valid_share)
    path = VALIDATE if target == "http-validate" else INGEST
    return path, templates, "application/json", options.connections


def run(ctx: Context, target: str) -> Profile:
    """Profile one target."""
    if target == "ingest":
        return profile_ingest(ctx)
    if target in TARGETS:
        return profile_http(ctx, target)
    raise ValueError(f"unknown profile target {target!r}; choose from {', '.join(TARGETS)}")
