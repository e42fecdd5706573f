"""The machine and the software a run measured: CPU, cores, RAM, Python, library versions, load, commit."""

import os
import platform
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from bench.options import DEFAULT_OUTPUT, REPO

LIBRARIES = (
    "fastapi",
    "starlette",
    "uvicorn",
    "h11",
    "uvloop",
    "httptools",
    "pydantic",
    "pydantic-core",
    "orjson",
    "jsonschema-rs",
    "confluent-kafka",
    "pymongo",
)


@dataclass(frozen=True)
class Machine:
    """A description of where and when figures were measured."""

    date: str
    cpu: str
    cores: int
    ram_gib: float
    python: str
    sqlite: str
    libraries: dict[str, str]
    load: tuple[float, float, float]
    commit: str

    def line(self, since: "Stamp") -> str:
        """One line for a section header: when and on which commit (from ``since`` to now), and where."""
        where = f"{self.cpu} · {self.cores} cores · {self.ram_gib:.0f} GiB · Python {self.python}"
        return f"{since.until_now()} · {where}"


@dataclass(frozen=True)
class Stamp:
    """When a part started, and on which commit: the tree may change while a long part runs."""

    date: str
    commit: str

    @classmethod
    def now(cls) -> "Stamp":
        """The time and commit now."""
        return cls(now(), commit())

    def until_now(self) -> str:
        """``start - end UTC, commit A`` (``commit A → B`` when the tree changed meanwhile)."""
        end = Stamp.now()
        commits = self.commit if end.commit == self.commit else f"{self.commit} → {end.commit}"
        return f"{self.date} - {end.date.split(' ', 1)[1]}, commit {commits}"


def describe() -> Machine:
    """The machine now."""
    return Machine(
        date=now(),
        cpu=cpu_model(),
        cores=os.cpu_count() or 1,
        ram_gib=_meminfo_kib("MemTotal") / 1024 / 1024,
        python=platform.python_version(),
        sqlite=sqlite3.sqlite_version,
        libraries={name: _version(name) for name in LIBRARIES},
        load=os.getloadavg(),
        commit=commit(),
    )


def now() -> str:
    """The date and time, UTC, to the minute."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def cpu_model() -> str:
    """The ``model name`` of /proc/cpuinfo (or the platform's processor string)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def commit() -> str:
    """The repository's short commit, ``+dirty`` when tracked files differ from it (read-only git). The
    report the harness itself rewrites (docs/benchmarks.md) does not count: its machine section is written
    when a run starts, so every part's stamp would otherwise say ``+dirty``."""
    report = DEFAULT_OUTPUT.relative_to(REPO).as_posix()
    try:
        head = _git("rev-parse", "--short", "HEAD")
        dirty = _git("status", "--porcelain", "--untracked-files=no", "--", ".", f":(exclude){report}")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def _git(*args: str) -> str:
    done = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def _meminfo_kib(field: str) -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return float(line.split()[1])
    except OSError:
        pass
    return 0.0


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"
