"""One HTTP measurement: a fresh server, a warm-up, the measured load, then its peak RSS and store count."""

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from bench import procs
from bench.context import Context
from bench.loadgen import Load, LoadResult
from bench.servers import Server
from bench.stats import Figure

ServerFactory = Callable[[str], AbstractContextManager[Server]]
"""Starts a server named by its argument, for the duration of a ``with`` block."""


@dataclass(frozen=True)
class Shape:
    """What a measurement sends: path, bodies, content type and connections."""

    path: str
    templates: list[bytes]
    content_type: str
    connections: int
    timeout: float = 10.0
    events_per_request: int = 1
    headers: tuple[tuple[str, str], ...] = ()
    """More request headers (an API key)."""


@dataclass(frozen=True)
class Measurement:
    """One measured load against one server process."""

    result: LoadResult
    peak_rss_mib: float
    stored: int | None
    answered: int
    """Events in the requests that were answered, warm-up included."""
    cpu: procs.CpuTimes = procs.NO_CPU
    """CPU time of the server process and of its children during the measured load (warm-up excluded)."""
    events: int = 0
    """Events in the requests answered during the measured load."""

    def cpu_us(self, which: str) -> float:
        """CPU µs per event answered in the measured load, of one process role (``main``, ``writer``)."""
        return float(getattr(self.cpu, which)) * 1e6 / max(self.events, 1)

    @property
    def lost(self) -> int:
        """Answered requests whose events are not in the store (must be 0); 0 when nothing is stored."""
        return max(0, self.answered - self.stored) if self.stored is not None else 0


def measure(ctx: Context, start: ServerFactory, name: str, shape: Shape, *, stores: bool) -> Measurement:
    """Start a server, warm it up, measure, and read its peak RSS (and its store count if ``stores``)."""
    options, generator = ctx.options, ctx.generator()
    with start(name) as server:
        warm = generator.run(_load(server, shape, f"{name}-warm", options.warmup), options.workdir)
        before = procs.cpu_now(server.proc.pid)
        result = generator.run(_load(server, shape, name, options.duration), options.workdir)
        cpu = procs.cpu_now(server.proc.pid).minus(before)
        if result.requests == 0:
            raise RuntimeError(f"{name}: no request completed ({result})")
        stored = server.stored() if stores else None
        answered = (warm.requests + result.requests) * shape.events_per_request
        events = result.requests * shape.events_per_request
        return Measurement(result, server.peak_rss_mib(), stored, answered, cpu, events)


def _load(server: Server, shape: Shape, prefix: str, duration: float) -> Load:
    return Load(
        url=server.url + shape.path,
        templates=shape.templates,
        content_type=shape.content_type,
        prefix=prefix,
        connections=shape.connections,
        duration=duration,
        timeout=shape.timeout,
        headers=shape.headers,
    )


def figure(measurements: list[Measurement], read: Callable[[Measurement], float]) -> Figure:
    """One quantity across runs."""
    return Figure.of(read(m) for m in measurements)


def rss(measurements: list[Measurement]) -> Figure:
    """Peak RSS across runs."""
    return figure(measurements, lambda m: m.peak_rss_mib)


def problems(measurements: list[Measurement]) -> str:
    """A warning when requests failed, answered non-2xx, or were answered without being stored."""
    errors = sum(m.result.errors for m in measurements)
    non_2xx = sum(m.result.non_2xx for m in measurements)
    lost = sum(m.lost for m in measurements)
    parts = [
        f"{errors:,} socket errors/timeouts" if errors else "",
        f"{non_2xx:,} non-2xx answers" if non_2xx else "",
        f"{lost:,} answered events missing from the store" if lost else "",
    ]
    found = ", ".join(part for part in parts if part)
    return f"⚠ {found}" if found else ""
