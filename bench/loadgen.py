"""Load generators: wrk (the real one) and a small Python fallback, behind one interface.

A :class:`Load` POSTs bodies made from templates, each request with a fresh id in place of
:data:`bench.data.ID_MARK`, over a fixed number of keep-alive connections for a fixed time.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class Load:
    """What to send: where, which bodies, how many connections, for how long."""

    url: str
    templates: list[bytes]
    content_type: str
    prefix: str
    connections: int
    duration: float
    timeout: float = 10.0
    headers: tuple[tuple[str, str], ...] = ()
    """More request headers (an API key)."""

    @property
    def threads(self) -> int:
        """Load-generator threads: one per core, never more than connections."""
        return max(1, min(2, self.connections))


@dataclass(frozen=True)
class LoadResult:
    """What a load generator saw."""

    tool: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    non_2xx: int

    @property
    def rps(self) -> float:
        """Completed requests per second."""
        return self.requests / self.seconds if self.seconds > 0 else 0.0


class Generator(Protocol):
    """Something that applies a :class:`Load` and reports what it saw."""

    name: str

    def run(self, load: Load, workdir: Path) -> LoadResult:
        """Apply ``load`` (scratch files go to ``workdir``)."""
        ...


def choose(kind: str, *, install: bool) -> Generator:
    """``wrk``, ``python``, or ``auto`` (wrk when present or installable, else the Python fallback)."""
    from bench import pyload, wrk  # noqa: PLC0415 — each generator imports only what it needs

    if kind == "python":
        return pyload.PythonLoad()
    binary = wrk.ensure(install=install)
    if binary is not None:
        return wrk.Wrk(binary)
    if kind == "wrk":
        raise SystemExit("bench: wrk is not installed (apt-get install -y wrk) and could not be installed")
    print("bench: wrk is not available; using the Python fallback load generator (figures not comparable)")
    return pyload.PythonLoad()
