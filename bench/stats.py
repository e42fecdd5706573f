"""Figures: several samples of one measurement, read as a median and a min to max; targets and verdicts."""

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Figure:
    """The samples of one measurement, one per run."""

    samples: tuple[float, ...]

    @classmethod
    def of(cls, values: Iterable[float]) -> "Figure":
        """A figure from at least one sample."""
        samples = tuple(float(value) for value in values)
        if not samples:
            raise ValueError("a figure needs at least one sample")
        return cls(samples)

    @property
    def median(self) -> float:
        """The median sample: what the tables report."""
        return statistics.median(self.samples)

    @property
    def low(self) -> float:
        """The smallest sample."""
        return min(self.samples)

    @property
    def high(self) -> float:
        """The largest sample."""
        return max(self.samples)


def ratios(ours: Figure, theirs: Figure) -> Figure:
    """Run-by-run ratios of two figures measured alternately in one run (noise cancels pairwise)."""
    return Figure.of(a / b for a, b in zip(ours.samples, theirs.samples, strict=True) if b > 0)


@dataclass(frozen=True)
class Target:
    """A goal from the benchmark issue: ``>= value`` or ``<= value``, judged on the median."""

    op: Literal[">=", "<="]
    value: float

    def met(self, measured: float) -> bool:
        """Whether ``measured`` reaches the target."""
        return measured >= self.value if self.op == ">=" else measured <= self.value


@dataclass(frozen=True)
class Row:
    """One line of a part's table. ``figure`` is None when the part could not measure it (and says why)."""

    metric: str
    figure: Figure | None
    unit: str
    target: Target | None = None
    rss_mib: Figure | None = None
    note: str = ""

    @property
    def verdict(self) -> str:
        """PASS or MISS against the target; empty without a target, n/a without a figure."""
        if self.figure is None:
            return "n/a"
        if self.target is None:
            return ""
        return "PASS" if self.target.met(self.figure.median) else "MISS"


@dataclass
class PartResult:
    """What one part measured: its rows, and notes on how (sizes, tools, caveats)."""

    name: str
    title: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def missed(self) -> bool:
        """Whether any row misses its target."""
        return any(row.verdict == "MISS" for row in self.rows)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values``, nearest rank; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]
