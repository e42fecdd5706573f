"""Child processes: each in its own process group, bounded in time, always stopped (group and all).

``spawn``/``stop`` for servers, ``run_measured`` for a command whose wall time, peak RSS and CPU time count.

CPU time is read from outside, from /proc: the command's own process and each of its children (found in
/proc/PID/task/*/children), utime + stime of /proc/PID/stat, sampled with the peak RSS until each ends; a
process's figure is its last sample. A child is named by its role (:func:`role`): the SQLite writer
process, or another child.
"""

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
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


WRITER = "writer"
"""The role of the SQLite writer process (``sigma_aetl.stores.sqlite.writer``)."""
MAIN = "main"
OTHER = "other"
_WRITER_ENTRY = b"sigma_aetl.stores.sqlite.writer"
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def stat_cpu_seconds(stat: str, ticks: int = _TICKS) -> float:
    """utime + stime of one /proc/PID/stat line, in seconds (the fields after the command's ``)``)."""
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / ticks  # fields 14 and 15 of proc(5), 1-based


def children_pids(texts: Iterable[str]) -> list[int]:
    """The pids listed in /proc/PID/task/*/children files (one file per thread)."""
    return [int(pid) for text in texts for pid in text.split()]


def role(cmdline: bytes) -> str:
    """A child's role from its /proc/PID/cmdline: the SQLite writer process, or another child."""
    return WRITER if _WRITER_ENTRY in cmdline else OTHER


@dataclass(frozen=True)
class CpuTimes:
    """CPU seconds (user + system) of a command's process and of its children, summed by role."""

    main: float = 0.0
    writer: float = 0.0
    other: float = 0.0

    def minus(self, startup: "CpuTimes") -> "CpuTimes":
        """These times less a start-up's (a run of the same command that does no work)."""
        return CpuTimes(self.main - startup.main, self.writer - startup.writer, self.other - startup.other)


NO_CPU = CpuTimes()
"""No CPU time: what a measurement that read none reports."""


@dataclass
class CpuWatch:
    """The last CPU sample of a process and of each of its children, by pid, while they run."""

    pid: int
    seconds: dict[int, float] = field(default_factory=dict)
    roles: dict[int, str] = field(default_factory=dict)

    def sample(self) -> None:
        """Read the CPU time of the process and of its children now (gone ones keep their last sample)."""
        self.roles[self.pid] = MAIN
        alive = [self.pid, *_children(self.pid)]
        for pid in alive[1:]:
            if self.roles.get(pid) != WRITER:  # again: a child seen between fork and exec has no role yet
                self.roles[pid] = role(_read_bytes(f"/proc/{pid}/cmdline"))
        for pid in alive:  # only live ones: a gone child's pid may already be another process's
            with contextlib.suppress(OSError, ValueError, IndexError):
                self.seconds[pid] = stat_cpu_seconds(Path(f"/proc/{pid}/stat").read_text())

    def times(self) -> CpuTimes:
        """The last samples, summed by role."""
        by_role = {MAIN: 0.0, WRITER: 0.0, OTHER: 0.0}
        for pid, seconds in self.seconds.items():
            by_role[self.roles[pid]] += seconds
        return CpuTimes(by_role[MAIN], by_role[WRITER], by_role[OTHER])


def cpu_now(pid: int) -> CpuTimes:
    """The CPU times of a running process and of its live children, now."""
    watch = CpuWatch(pid)
    watch.sample()
    return watch.times()


def _children(pid: int) -> list[int]:
    texts = (_read_text(path) for path in Path(f"/proc/{pid}/task").glob("*/children"))
    with contextlib.suppress(OSError, ValueError):
        return children_pids(texts)
    return []


def _read_text(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _read_bytes(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError:
        return b""


@dataclass(frozen=True)
class Measured:
    """A finished command: exit code, output, wall time, peak resident memory and CPU time."""

    returncode: int
    stdout: str
    wall_seconds: float
    peak_rss_mib: float
    cpu: CpuTimes = NO_CPU


def run_measured(
    command: Sequence[str], log: Path, *, timeout: float, env: Mapping[str, str] | None = None
) -> Measured:
    """Run ``command`` to the end (killed after ``timeout`` s), polling its peak RSS (VmHWM) and the CPU
    time of it and its children meanwhile.

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
        cpu = CpuWatch(proc.pid)
        try:
            peak = _watch_peak(proc, started + timeout, cpu)
        finally:
            stop(proc)
        wall = time.perf_counter() - started
    return Measured(proc.returncode, out.read_text(errors="replace"), wall, peak, cpu.times())


def _watch_peak(proc: subprocess.Popen[bytes], deadline: float, cpu: CpuWatch) -> float:
    """Poll VmHWM (it only grows) and the CPU times until the process exits; return the peak in MiB."""
    peak = 0.0
    while proc.poll() is None:
        if time.perf_counter() > deadline:
            _signal_group(proc.pid, signal.SIGKILL)
            break
        peak = max(peak, memory.peak_rss_mib(proc.pid))
        cpu.sample()
        time.sleep(0.02)
    return peak


def _signal_group(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signum)
