"""Instructions per ``POST /api/validate``, counted by Valgrind, not timed: the gateway's ASGI callable
(with its request hooks, and without any), against the baseline's, in process, no socket.

Timings on a shared machine can move by twice between runs of the same code; an instruction count does
not. Each app serves ``WARM`` rounds of the 50 request templates, then N more, under ``valgrind
--tool=callgrind``; two runs that differ only in N give the instructions of the requests between them,
without the interpreter's start-up and imports. Python's hash seed is fixed, so a count repeats to within
a few instructions per request. Run as ``python -m bench.instructions APP ROUNDS WORKDIR`` it is the
workload itself.
"""

import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from bench import data
from bench.context import Context
from bench.options import CONTRACTS
from bench.stats import Figure, PartResult, Row

APPS = {
    "gateway": "gateway (its request hooks: request id, Host check, authentication)",
    "gateway-nohooks": "gateway without any request hook (a measurement, not an option)",
    "baseline": "seed-style baseline (bench/baseline_app.py)",
}
WARM = 4
"""Rounds of the templates served before the counted ones (and in the run that gives the offset)."""
TEMPLATES = 50
_COLLECTED = re.compile(rb"Collected : (\d+)")
Message = MutableMapping[str, Any]


def run(ctx: Context) -> PartResult:
    """Instructions per request of each app, and the gateway's over the baseline's."""
    options = ctx.options
    part = PartResult("instructions", "Instructions per POST /api/validate (Valgrind, in process)")
    valgrind = shutil.which("valgrind")
    extra = 4 if options.quick else 40
    runs = 1 if options.quick else 2
    part.notes = [
        f"{extra * TEMPLATES:,} requests counted per run (the difference of a run of {WARM} rounds of "
        f"{TEMPLATES} templates and one of {WARM + extra}), {runs} run(s) each; PYTHONHASHSEED=0.",
        "The same bodies as http-single (80% valid); the gateway with this repository's contracts, its "
        "default contract and an open store (no API key), as `sigma-aetl serve` answers them.",
    ]
    if valgrind is None:
        part.notes.append("valgrind is not installed (Debian: apt-get install valgrind); nothing counted.")
        part.rows = [Row(f"POST /api/validate · {label}", None, "instructions") for label in APPS.values()]
        return part
    counts = {
        app: Figure.of(per_request(valgrind, app, extra, options.workdir) for _ in range(runs))
        for app in APPS
    }
    for app, label in APPS.items():
        part.rows.append(Row(f"POST /api/validate · {label}", counts[app], "instructions/request"))
    ratio = Figure.of(
        g / b for g, b in zip(counts["gateway"].samples, counts["baseline"].samples, strict=True)
    )
    part.rows.append(Row("gateway ÷ baseline (fewer is better)", ratio, "x"))
    hooks = counts["gateway"].median - counts["gateway-nohooks"].median
    part.notes.append(f"The request hooks: {hooks:,.0f} instructions per request.")
    return part


def per_request(valgrind: str, app: str, extra: int, workdir: Path) -> float:
    """Instructions per request of ``app``: two counted runs, ``extra`` rounds apart."""
    low = counted(valgrind, app, 0, workdir)
    high = counted(valgrind, app, extra, workdir)
    return (high - low) / (extra * TEMPLATES)


def counted(valgrind: str, app: str, rounds: int, workdir: Path) -> int:
    """The instructions Valgrind counted in one run of the workload (``rounds`` after the warm-up)."""
    command = [
        *(valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null"),
        *(sys.executable, "-m", "bench.instructions", app, str(rounds), str(workdir)),
    ]
    env = {**os.environ, "PYTHONHASHSEED": "0", "SIGMA_AETL_LOG_LEVEL": "warning"}
    done = subprocess.run(command, capture_output=True, env=env, timeout=1800, check=False)
    found = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None or b"answered 200" not in done.stdout:
        tail = (done.stdout + done.stderr)[-2000:].decode(errors="replace")
        raise RuntimeError(f"counting {app} failed ({done.returncode}):\n{tail}")
    return int(found.group(1))


def scope_of(body: bytes) -> dict[str, Any]:
    """The ASGI scope uvicorn gives a ``POST /api/validate`` of ``body`` from wrk."""
    headers = [
        (b"host", b"127.0.0.1:8000"),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"user-agent", b"wrk/4.2"),
        (b"accept", b"*/*"),
    ]
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/validate",
        "raw_path": b"/api/validate",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 5555),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


def application(app: str, workdir: Path) -> Any:
    """The ASGI app to count (imported here: the part itself must not load the gateway)."""
    if app == "baseline":
        from bench.baseline_app import app as baseline  # noqa: PLC0415

        return baseline
    from sigma_aetl.http.app import create_app  # noqa: PLC0415
    from sigma_aetl.settings import Settings  # noqa: PLC0415

    store = Path(tempfile.mkdtemp(dir=workdir)) / "count.db"
    gateway = create_app(Settings(store_url=f"sqlite:///{store}", contracts_dir=CONTRACTS))
    if app == "gateway-nohooks" and gateway.request_path is not None:
        gateway.request_path.hooks = ()
    return gateway


async def serve(app: Any, rounds: int) -> set[int]:
    """Start ``app`` (its lifespan), answer ``WARM + rounds`` rounds of the templates; the statuses sent."""
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    outbox: asyncio.Queue[Message] = asyncio.Queue()
    await inbox.put({"type": "lifespan.startup"})
    lifespan = asyncio.ensure_future(
        app({"type": "lifespan", "asgi": {"version": "3.0"}}, inbox.get, outbox.put)
    )
    started = await outbox.get()
    if started["type"] != "lifespan.startup.complete":
        raise RuntimeError(f"the app did not start: {started}")
    statuses: set[int] = set()

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.add(message["status"])

    for body in data.templates(TEMPLATES, seed=1, valid_share=0.8) * (WARM + rounds):
        await app(scope_of(body), _receiver(body), send)
    lifespan.cancel()
    return statuses


def _receiver(body: bytes) -> Any:
    """An ASGI ``receive`` that gives ``body`` whole, then waits (as a connection that stays open)."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> Message:
        if pending:
            return pending.pop()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    return receive


def main(argv: list[str]) -> None:
    """The workload: ``APP ROUNDS WORKDIR``; prints the statuses answered, then exits at once (no
    shutdown work counted)."""
    app, rounds, workdir = argv[0], int(argv[1]), Path(argv[2])
    statuses = asyncio.run(serve(application(app, workdir), rounds))
    print("answered", " ".join(str(status) for status in sorted(statuses)), flush=True)
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
