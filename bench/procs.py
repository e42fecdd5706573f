"""Child processes: each in its own process group, bounded in time, always stopped (group and all).

``spawn``/``stop`` for servers, ``run_measured`` for a command whose wall time and peak RSS count.
"""

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import memory
from bench.options import REPO


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a child: ours, minus any SIGMA_AETL_* setting, plus ``extra``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("SIGMA_AETL_")}
    env.update(extra or {})
    return env


def spawn(command: Sequence[str], log: Path, env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start ``command`` in a new process group, output to ``log``."""
    with log.open("ab") as sink:
        return subprocess.Popen(
            list(command),
            cwd=REPO,
            env=child_env(env),
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(proc: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """SIGTERM the process group, wait ``grace`` seconds, then SIGKILL it."""
    _signal_group(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        _signal_group(proc.pid, signal.SIGKILL)
        proc.wait(timeout=grace)
    _signal_group(proc.pid, signal.SIGKILL)  # anything the leader left behind in its group


@contextlib.contextmanager
def running(
    command: Sequence[str], log: Path, env: Mapping[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """``spawn`` for the duration of a block, stopped whatever happens."""
    proc = spawn(command, log, env)
    try:
        yield proc
    finally:
        stop(proc)


def wait_port(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60.0) -> None:
    """Return once 127.0.0.1:``port`` accepts connections; raise (with the log's tail) if the process dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{log.name}: exited with {proc.returncode} before listening:\n{tail(log)}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.05)
    raise RuntimeError(f"{log.name}: not listening on port {port} after {timeout:.0f} s:\n{tail(log)}")


def tail(path: Path, lines: int = 20) -> str:
    """The last lines of a log file."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@dataclass(frozen=True)
class Measured:
    """A finished command: exit code, output, wall time and peak resident memory."""

    returncode: int
    stdout: str
    wall_seconds: float
    peak_rss_mib: float


def run_measured(
    command: Sequence[str], log: Path, *, timeout: float, env: Mapping[str, str] | None = None
) -> Measured:
    """Run ``command`` to the end (killed after ``timeout`` s), polling its peak RSS (VmHWM) meanwhile.

    Not ``wait4()``'s ``ru_maxrss``: that counts the memory of this process at fork time too.
    """
    out = log.with_suffix(".stdout")
    with out.open("wb") as sink, log.open("ab") as errors:
        started = time.perf_counter()
        proc = subprocess.Popen(
            list(command),
            cwd=REPO,
            env=child_env(env),
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=errors,
            start_new_session=True,
        )
        try:
            peak = _watch_peak(proc, started + timeout)
        finally:
            stop(proc)
        wall = time.perf_counter() - started
    return Measured(proc.returncode, out.read_text(errors="replace"), wall, peak)


def _watch_peak(proc: subprocess.Popen[bytes], deadline: float) -> float:
    """Poll VmHWM (it only grows) until the process exits; return it in MiB."""
    peak = 0.0
    while proc.poll() is None:
        if time.perf_counter() > deadline:
            _signal_group(proc.pid, signal.SIGKILL)
            break
        peak = max(peak, memory.peak_rss_mib(proc.pid))
        time.sleep(0.02)
    return peak


def _signal_group(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signum)
