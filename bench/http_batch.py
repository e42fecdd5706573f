"""HTTP batches: NDJSON bodies of ``--batch-events`` events to ``POST /v1/ingest/shipment/1``.

Every event of every batch has a distinct shipment id, so each is stored (a record or a failure). The
figure is events stored per second: answered batches x batch size ÷ load time; the store count read
afterwards through ``GET /v1/stats`` must cover every answered event.
"""

from functools import partial

from bench import data, servers
from bench.context import Context
from bench.httpload import Measurement, Shape, figure, measure, problems, rss
from bench.stats import PartResult, Row, Target

TARGET = Target(">=", 100_000)
PATH = "/v1/ingest/shipment/1"


def run(ctx: Context) -> PartResult:
    """Events/s stored through batches, per run a fresh gateway and store."""
    options = ctx.options
    body = data.batch_template(options.batch_events, seed=options.seed, valid_share=options.valid_share)
    shape = Shape(
        PATH,
        [body],
        "application/x-ndjson",
        options.batch_connections,
        timeout=60.0,
        events_per_request=options.batch_events,
    )
    measurements = []
    for number in range(options.runs):
        print(f"bench: http-batch run {number + 1}/{options.runs}")
        store = options.store_url(options.workdir / f"http-batch-{number}.db")
        start = partial(servers.gateway, options.workdir, store_url=store)
        measurements.append(measure(ctx, start, f"batch-{number}", shape, stores=True))
    return _result(ctx, measurements)


def _result(ctx: Context, measurements: list[Measurement]) -> PartResult:
    options = ctx.options
    size = options.batch_events
    part = PartResult("http-batch", f"HTTP batches of {size:,} events (NDJSON)")
    part.rows = [
        Row(
            f"POST {PATH} · events stored",
            figure(measurements, lambda m: m.result.rps * size),
            "events/s",
            TARGET,
            rss(measurements),
            problems(measurements),
        ),
        Row("batches answered", figure(measurements, lambda m: m.result.rps), "req/s"),
        Row("batch latency p50", figure(measurements, lambda m: m.result.p50_ms), "ms"),
        Row("batch latency p99", figure(measurements, lambda m: m.result.p99_ms), "ms"),
        Row("CPU per event · server process", figure(measurements, lambda m: m.cpu_us("main")), "µs"),
        Row("CPU per event · writer process", figure(measurements, lambda m: m.cpu_us("writer")), "µs"),
    ]
    part.notes = [
        f"{ctx.generator().name}, {options.batch_connections} connections, {options.duration:g} s per run "
        f"after a {options.warmup:g} s warm-up, {options.runs} runs, a fresh gateway and store per run "
        f"(synchronous={options.sqlite_sync}); {options.valid_share:.0%} valid events.",
        "CPU per event: user + system time (/proc/PID/stat) of the gateway's process and of its SQLite "
        "writer process over the measured load, ÷ the events in the batches answered in it.",
    ]
    return part
