"""wrk, the HTTP load generator from Debian: installed on demand (root + apt-get), driven by ``wrk.lua``."""

import json
import os
import shutil
import subprocess
from pathlib import Path

from bench.loadgen import Load, LoadResult

SCRIPT = Path(__file__).with_name("wrk.lua")
SEPARATOR = b"\x1e"
_MARKER = "BENCH-JSON "


def ensure(*, install: bool) -> str | None:
    """The wrk binary; when missing, installed with apt-get if allowed and running as root."""
    found = shutil.which("wrk")
    if found or not install or os.geteuid() != 0 or shutil.which("apt-get") is None:
        return found
    print("bench: installing wrk (apt-get update && apt-get install -y wrk)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=False)
        if done.returncode != 0:
            print(f"bench: {' '.join(command)} failed: {done.stderr.strip()[-500:]}")
            return None
    return shutil.which("wrk")


class Wrk:
    """wrk with ``wrk.lua``: fixed connections and duration, latency percentiles from its histogram."""

    name = "wrk"

    def __init__(self, binary: str) -> None:
        self.binary = binary

    def run(self, load: Load, workdir: Path) -> LoadResult:
        """Run wrk for ``load.duration`` seconds."""
        bodies = workdir / f"bodies-{load.prefix}.bin"
        bodies.write_bytes(SEPARATOR.join(load.templates))
        seconds = max(1, round(load.duration))
        command = [
            *(self.binary, "-t", str(load.threads), "-c", str(load.connections), "-d", f"{seconds}s"),
            *("--timeout", f"{load.timeout:.0f}s", "--latency", "-s", str(SCRIPT), load.url),
            *("--", load.prefix, str(bodies), load.content_type),
            *(part for header in load.headers for part in header),
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()[-1000:]}")
        return parse(done.stdout)


def parse(output: str) -> LoadResult:
    """The result line ``wrk.lua`` prints when done."""
    for line in output.splitlines():
        if line.startswith(_MARKER):
            data = json.loads(line.removeprefix(_MARKER))
            errors = data["connect"] + data["read"] + data["write"] + data["timeout"]
            return LoadResult(
                tool="wrk",
                requests=data["requests"],
                seconds=data["duration_us"] / 1e6,
                p50_ms=data["p50_us"] / 1000,
                p99_ms=data["p99_us"] / 1000,
                errors=errors,
                non_2xx=data["status"],
            )
    raise RuntimeError(f"wrk printed no result line:\n{output[-2000:]}")
