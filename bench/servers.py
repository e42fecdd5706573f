"""The servers under load, each a real subprocess on 127.0.0.1 with one uvicorn worker.

- the gateway: ``sigma-aetl serve`` (``python -m sigma_aetl``) on a SQLite store of its own, open (no API
  key) or with one made by ``sigma-aetl keys create`` (:func:`api_key`);
- the baseline: ``uvicorn bench.baseline_app:app``;
- the floor: ``uvicorn bench.floor_app:app``, an ASGI app that does nothing (the server stack's ceiling).

All log at ``warning`` and write no access-log line per request. The gateway runs with its own
``serve`` options (``X-Forwarded-For`` trusted only when configured); the others run uvicorn's defaults
otherwise. The event loop and HTTP parser are whatever the environment provides: see the machine table.
"""

import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from subprocess import Popen
from typing import Any

import orjson

from bench import memory, procs
from bench.options import CONTRACTS


@dataclass(frozen=True)
class Server:
    """A running server process."""

    name: str
    proc: Popen[bytes]
    port: int
    token: str | None = None
    """The API key its reads send, when its store holds keys."""

    @property
    def url(self) -> str:
        """Its base URL."""
        return f"http://127.0.0.1:{self.port}"

    def peak_rss_mib(self) -> float:
        """Its peak resident memory so far (VmHWM)."""
        return memory.peak_rss_mib(self.proc.pid)

    def get_json(self, path: str) -> Any:
        """GET ``path`` and decode the JSON answer."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        request = urllib.request.Request(self.url + path, headers=headers)
        with urllib.request.urlopen(request, timeout=30) as answer:
            return orjson.loads(answer.read())

    def stored(self) -> int:
        """Accepted records plus failure records in the gateway's store (``GET /v1/stats``)."""
        stats = self.get_json("/v1/stats")
        return int(stats["accepted_total"]) + int(stats["failures_total"])


def gateway_command(port: int, store_url: str) -> list[str]:
    """``sigma-aetl serve`` on ``port`` over ``store_url`` and the repository's contracts."""
    return [
        *(sys.executable, "-m", "sigma_aetl", "--store", store_url, "--contracts", str(CONTRACTS)),
        *("serve", "--host", "127.0.0.1", "--port", str(port)),
    ]


def uvicorn_command(port: int, app: str) -> list[str]:
    """An app of this package under uvicorn, one worker."""
    return [
        *(sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)),
        *("--log-level", "warning", "--no-access-log", "--lifespan", "off"),
    ]


def api_key(store_url: str, *scopes: str) -> str:
    """A new API key with ``scopes`` on the store, made by ``sigma-aetl keys create``; its token."""
    command = [sys.executable, "-m", "sigma_aetl", "--store", store_url, "keys", "create", "--name", "bench"]
    command += [part for scope in scopes for part in ("--scope", scope)]
    done = subprocess.run([*command, "--json"], capture_output=True, text=True, check=True)
    token: str = orjson.loads(done.stdout)["token"]
    return token


@contextmanager
def gateway(workdir: Path, name: str, store_url: str, token: str | None = None) -> Iterator[Server]:
    """The gateway, listening, for the duration of the block; ``token`` is the API key its reads send.

    ``BENCH_METRICS=off`` in the bench's environment starts it with metrics turned off (the cost of metrics
    is measured as on vs off, docs/benchmarks.md)."""
    port = procs.free_port()
    env = {"SIGMA_AETL_LOG_LEVEL": "warning"}
    if os.environ.get("BENCH_METRICS") == "off":
        env["SIGMA_AETL_METRICS_ENABLED"] = "false"
    with procs.running(gateway_command(port, store_url), workdir / f"{name}.log", env) as proc:
        procs.wait_port(port, proc, workdir / f"{name}.log")
        yield Server(name, proc, port, token)


@contextmanager
def baseline(workdir: Path, name: str) -> Iterator[Server]:
    """The seed-style baseline, listening, for the duration of the block."""
    with _uvicorn(workdir, name, "bench.baseline_app:app") as server:
        yield server


@contextmanager
def floor(workdir: Path, name: str) -> Iterator[Server]:
    """The do-nothing ASGI app, listening, for the duration of the block."""
    with _uvicorn(workdir, name, "bench.floor_app:app") as server:
        yield server


@contextmanager
def _uvicorn(workdir: Path, name: str, app: str) -> Iterator[Server]:
    port = procs.free_port()
    with procs.running(uvicorn_command(port, app), workdir / f"{name}.log", None) as proc:
        procs.wait_port(port, proc, workdir / f"{name}.log")
        yield Server(name, proc, port)
