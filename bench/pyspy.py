"""py-spy: installed on demand, run from outside the target, and its collapsed stacks read into a view.

Recordings use ``--nonblocking`` (the target is never paused: pausing it cost a gateway under load more
than half its throughput) and ``--format raw`` (one ``frame;frame;frame COUNT`` line per distinct stack,
frames as ``function (path:line)``). A view counts, per function, its *own* samples (on top of the stack;
time inside a C call such as SQLite's ``execute`` counts for the Python function that made it), the
*inclusive* samples of the project's own functions (anywhere on the stack; the CLI and ``__main__``
wrappers, always 100 %, are left out), and own samples rolled up by area (package or module).
"""

import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

RATE = 200
"""Samples per second."""
TOP = 15


@dataclass(frozen=True)
class View:
    """Sample counts of one recording (or of the samples under one function of it)."""

    title: str
    total: int
    own: Counter[str]
    inclusive: Counter[str]
    areas: Counter[str]

    def top(self, counter: Counter[str], count: int = TOP) -> list[tuple[str, float]]:
        """The largest entries of ``counter`` with their share of this view's samples, in percent."""
        return [(name, 100 * n / max(self.total, 1)) for name, n in counter.most_common(count)]


def ensure() -> str:
    """The py-spy binary, installed with pip into this environment when missing."""
    found = Path(sys.executable).parent / "py-spy"
    if found.exists():
        return str(found)
    on_path = shutil.which("py-spy")
    if on_path:
        return on_path
    print("bench: installing py-spy into this environment (pip install py-spy)")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "py-spy"], check=True, timeout=600)
    return str(found)


def record_command(out: Path, command: list[str], cwd: Path) -> None:
    """Run ``command`` under py-spy to its end, writing the raw profile to ``out``."""
    spy = [ensure(), "record", "--format", "raw", "-o", str(out), "-r", str(RATE), "--nonblocking"]
    subprocess.run([*spy, "--", *command], cwd=cwd, capture_output=True, check=True, timeout=3600)


def record_pid(out: Path, pid: int, seconds: float, *, gil: bool) -> "subprocess.Popen[bytes]":
    """Start sampling a running process for ``seconds``; with ``gil``, only the thread holding the GIL."""
    command = [ensure(), "record", "--format", "raw", "-o", str(out), "-r", str(RATE), "--nonblocking"]
    command += ["--pid", str(pid), "-d", str(max(1, round(seconds))), *(["--gil"] if gil else [])]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def read(raw: str, title: str, focus: str | None = None) -> View:
    """A view of a raw profile; with ``focus``, only the stacks through that function (``name (path)``)."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    areas: Counter[str] = Counter()
    total = 0
    for stack, count in stacks(raw):
        frames = [function_key(frame) for frame in stack.split(";")]
        names = {name for name, _ in frames}
        if focus is not None and focus not in names:
            continue
        total += count
        own[frames[-1][0]] += count
        areas[frames[-1][1]] += count
        inclusive.update(dict.fromkeys((name for name, where in frames if _project(where)), count))
    return View(title, total, own, inclusive, areas)


def _project(where: str) -> bool:
    return where.startswith("sigma_aetl/") and where not in ("sigma_aetl/cli", "sigma_aetl/__main__")


def stacks(raw: str) -> list[tuple[str, int]]:
    """(stack, count) per line of a raw profile."""
    found = []
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            found.append((stack, int(count)))
    return found


def function_key(frame: str) -> tuple[str, str]:
    """``func (path:line)`` → (``func (short/path.py)``, area)."""
    function, _, location = frame.partition(" (")
    short = short_path(location.rstrip(")").rsplit(":", 1)[0])
    return f"{function} ({short})", area(short)


def short_path(path: str) -> str:
    """A path from its package root: ``sigma_aetl/core/validator.py``, ``starlette/routing.py``."""
    for marker in ("/site-packages/", "/src/", "/lib/python3."):
        if marker in path:
            rest = path.split(marker, 1)[1]
            return rest.split("/", 1)[1] if marker == "/lib/python3." else rest
    return path


def area(short: str) -> str:
    """The package (``sigma_aetl/core``, ``pydantic_core``, ``asyncio``...) a short path belongs to."""
    parts = short.split("/")
    if parts[0] == "sigma_aetl" and len(parts) > 1:
        return "/".join(parts[:2]).removesuffix(".py")
    return parts[0].removesuffix(".py")
