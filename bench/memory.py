"""Resident memory of a process (/proc/PID/status): peak, current, sampled over time, and its growth.

Growth ignores the first fifth of the samples (warm-up: caches and allocator arenas filling) and compares the
median of the last tenth with the median of the first tenth after warm-up; the slope is a least-squares fit.
"""

import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType


def status_kib(pid: int, field_name: str) -> float:
    """A ``Vm*`` field of /proc/PID/status in KiB (0 when the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field_name}:"):
                return float(line.split()[1])
    except OSError:
        pass
    return 0.0


def peak_rss_mib(pid: int) -> float:
    """Peak resident memory since the process started (VmHWM), MiB."""
    return status_kib(pid, "VmHWM") / 1024


def rss_mib(pid: int) -> float:
    """Resident memory now (VmRSS), MiB."""
    return status_kib(pid, "VmRSS") / 1024


@dataclass
class Sampler:
    """Samples a process's VmRSS every ``interval`` seconds in a thread, while used as a context manager."""

    pid: int
    interval: float
    samples: list[tuple[float, float]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> "Sampler":
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval + 5)

    def _loop(self) -> None:
        started = time.monotonic()
        while not self._stop.is_set():
            self.samples.append((time.monotonic() - started, rss_mib(self.pid)))
            self._stop.wait(self.interval)


@dataclass(frozen=True)
class Growth:
    """How RSS moved over a soak, after warm-up."""

    start_mib: float
    end_mib: float
    slope_mib_per_min: float

    @property
    def percent(self) -> float:
        """End against start, in percent."""
        return (self.end_mib - self.start_mib) / self.start_mib * 100 if self.start_mib else 0.0


def growth(samples: list[tuple[float, float]]) -> Growth:
    """Growth of the samples after the first fifth (warm-up)."""
    settled = samples[len(samples) // 5 :] or samples
    window = max(1, len(settled) // 10)
    start = statistics.median(rss for _, rss in settled[:window])
    end = statistics.median(rss for _, rss in settled[-window:])
    return Growth(start, end, _slope(settled) * 60)


def _slope(samples: list[tuple[float, float]]) -> float:
    if len(samples) < 2:
        return 0.0
    times = [t for t, _ in samples]
    values = [rss for _, rss in samples]
    return statistics.linear_regression(times, values).slope
