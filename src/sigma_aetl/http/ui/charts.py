"""Server-side SVG charts for the dashboard: pure functions from the analytics models to SVG text.

No JavaScript and no chart library: a chart is an inline ``<svg>`` element built here, so a page draws
offline, under a Content-Security-Policy that allows no script and no inline style (colours are SVG
presentation attributes, never ``style=``). Every label is escaped; the same model always gives the same
bytes. Three shapes::

    line_chart(labels, [Line("shipment@1", [3, 5, None, 2]), ...], title=..., area=True)
    bar_chart(["shipment@1", "shipment@2"], [Line("accepted", [90, 40]), Line("failed", [10, 2])], ...)
    sparkline([0, 2, 5, 1])

and the adapters the pages use: :func:`traffic_chart`, :func:`acceptance_chart`, :func:`version_bars`
(from ``TrafficAnalytics``) and :func:`class_sparklines` (from ``FailureAnalytics`` grouped by class).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

from sigma_aetl.core.analytics import Bucket, FailureAnalytics, TrafficAnalytics

PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4b5563", "#ca8a04")
"""Series colours, in order; the ninth series takes the first colour again."""
WIDTH, HEIGHT = 640, 200
_LEFT, _RIGHT, _TOP, _BOTTOM = 48, 8, 24, 28
"""Margins around the plot: the y labels at the left, the legend above, the x labels below."""
_LABEL_FORMAT: dict[Bucket, str] = {"minute": "%H:%M", "hour": "%m-%d %H:00", "day": "%Y-%m-%d"}


@dataclass(frozen=True, slots=True)
class Line:
    """One series: a label and one value per x position (None: no value there, a gap in the line)."""

    label: str
    values: Sequence[float | None]


def colour(index: int) -> str:
    """The colour of the series at ``index``."""
    return PALETTE[index % len(PALETTE)]


def line_chart(
    labels: Sequence[str],
    lines: Sequence[Line],
    *,
    title: str,
    y_max: float | None = None,
    percent: bool = False,
    area: bool = False,
) -> str:
    """A line chart (``area``: filled below each line) over ``labels``, with a y axis from 0 to ``y_max``
    (the largest value when None) and a legend; ``percent`` shows the y axis as percentages of 1."""
    top = y_max if y_max is not None else max((v for line in lines for v in line.values if v), default=0)
    if not labels or not lines or top <= 0:
        return empty_chart(title)
    parts = [*_axes(labels, top, percent)]
    for index, line in enumerate(lines):
        parts.extend(_line(line, len(labels), top, colour(index), area))
    return _svg(title, [*parts, *_legend([line.label for line in lines])])


def bar_chart(labels: Sequence[str], stacks: Sequence[Line], *, title: str) -> str:
    """Stacked bars, one per label, each series a segment (``stacks[i].values[j]``: series i of bar j)."""
    totals = [sum(stack.values[j] or 0 for stack in stacks) for j in range(len(labels))]
    top = max(totals, default=0)
    if not labels or not stacks or top <= 0:
        return empty_chart(title)
    parts = [*_axes(labels, top, percent=False, centred=True)]
    slot = _plot_width() / len(labels)
    for j in range(len(labels)):
        base = 0.0
        for index, stack in enumerate(stacks):
            value = stack.values[j] or 0
            y0, y1 = _y(base, top), _y(base + value, top)
            x = _LEFT + slot * j + slot * 0.2
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="{y1:.1f}" width="{slot * 0.6:.1f}" height="{y0 - y1:.1f}" '
                f'fill="{colour(index)}"><title>{escape(stack.label)} {escape(labels[j])}: '
                f"{_number(value)}</title></rect>"
            )
            base += value
    return _svg(title, [*parts, *_legend([stack.label for stack in stacks])])


def sparkline(counts: Sequence[int], *, label: str = "", width: int = 120, height: int = 24) -> str:
    """A small line of ``counts`` with no axes (a flat line at the bottom when every count is 0)."""
    top = max(counts, default=0) or 1
    step = width / max(len(counts) - 1, 1)
    points = " ".join(
        f"{n * step:.1f},{height - 2 - (count / top) * (height - 4):.1f}" for n, count in enumerate(counts)
    )
    words = escape(label or f"{sum(counts)} in the window")
    return (
        f'<svg class="sparkline" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{words}"><title>{words}</title>'
        f'<polyline points="{points}" fill="none" stroke="{PALETTE[1]}" stroke-width="1.5"/></svg>'
    )


def empty_chart(title: str) -> str:
    """The chart drawn when there is nothing to draw: its frame and the words ``No data in this window``."""
    return _svg(
        title,
        [
            f'<text x="{WIDTH / 2:.0f}" y="{HEIGHT / 2:.0f}" text-anchor="middle" fill="#6b7280">'
            "No data in this window</text>"
        ],
    )


# -- From the analytics models ------------------------------------------------------------------------------


def bucket_labels(buckets: Sequence[datetime], bucket: Bucket) -> list[str]:
    """Each bucket start as the x axis shows it (UTC)."""
    return [start.strftime(_LABEL_FORMAT[bucket]) for start in buckets]


def traffic_chart(traffic: TrafficAnalytics) -> str:
    """Events (accepted and failed) per contract version per bucket, filled below each line."""
    lines = [
        Line(f"{row.contract}@{row.version}", [a + f for a, f in zip(row.accepted, row.failed, strict=True)])
        for row in traffic.versions
    ]
    labels = bucket_labels(traffic.buckets, traffic.bucket)
    return line_chart(labels, lines, title="Events per contract version", area=True)


def acceptance_chart(traffic: TrafficAnalytics) -> str:
    """The acceptance ratio per contract version per bucket (a gap where a version had no events)."""
    lines = [
        Line(
            f"{row.contract}@{row.version}",
            [None if a + f == 0 else a / (a + f) for a, f in zip(row.accepted, row.failed, strict=True)],
        )
        for row in traffic.versions
    ]
    labels = bucket_labels(traffic.buckets, traffic.bucket)
    return line_chart(labels, lines, title="Acceptance ratio per contract version", y_max=1, percent=True)


def version_bars(traffic: TrafficAnalytics) -> str:
    """Accepted and failed events of each contract version in the window, stacked."""
    labels = [f"{row.contract}@{row.version}" for row in traffic.versions]
    stacks = [
        Line("accepted", [row.accepted_total for row in traffic.versions]),
        Line("failed", [row.failed_total for row in traffic.versions]),
    ]
    return bar_chart(labels, stacks, title="Events per version in the window")


def class_sparklines(analytics: FailureAnalytics) -> dict[str, str]:
    """A sparkline per group of ``analytics`` (grouped by class: per class id), by group."""
    return {
        series.group: sparkline(series.counts, label=f"{series.total} failures in the window")
        for series in analytics.series
    }


# -- Drawing ------------------------------------------------------------------------------------------------


def _plot_width() -> float:
    return WIDTH - _LEFT - _RIGHT


def _x(index: int, count: int) -> float:
    return _LEFT + _plot_width() * (index / max(count - 1, 1))


def _y(value: float, top: float) -> float:
    return _TOP + (HEIGHT - _TOP - _BOTTOM) * (1 - value / top)


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}".rstrip("0")


def _axes(labels: Sequence[str], top: float, percent: bool, centred: bool = False) -> list[str]:
    """Grid lines and y labels at 0, half and the top; x labels at the first, middle and last position."""
    parts = []
    for fraction in (0.0, 0.5, 1.0):
        y = _y(top * fraction, top)
        words = f"{fraction * top:.0%}" if percent else _number(round(top * fraction, 2))
        parts.append(f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{WIDTH - _RIGHT}" y2="{y:.1f}" stroke="#e5e7eb"/>')
        parts.append(f'<text x="{_LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" fill="#374151">{words}</text>')
    slot = _plot_width() / len(labels)
    for index in sorted({0, len(labels) // 2, len(labels) - 1}):
        x = _LEFT + slot * (index + 0.5) if centred else _x(index, len(labels))
        anchor = "middle" if centred else _anchor(index, len(labels))
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - 10}" text-anchor="{anchor}" fill="#374151">'
            f"{escape(labels[index])}</text>"
        )
    return parts


def _anchor(index: int, count: int) -> str:
    """The first x label starts at its point, the last ends there, the middle one is centred on it."""
    return "start" if index == 0 else "end" if index == count - 1 else "middle"


def _line(line: Line, count: int, top: float, stroke: str, area: bool) -> list[str]:
    """The line's runs of consecutive values (a None breaks it), each a polyline (and its area)."""
    parts, run = [], []
    for index, value in enumerate([*line.values, None]):
        if value is not None:
            run.append((_x(index, count), _y(min(value, top), top)))
            continue
        if run:
            parts.extend(_run(run, stroke, area, escape(line.label)))
        run = []
    return parts


def _run(run: list[tuple[float, float]], stroke: str, area: bool, label: str) -> list[str]:
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
    drawn = []
    if area:
        floor = HEIGHT - _BOTTOM
        shape = f"{run[0][0]:.1f},{floor} {points} {run[-1][0]:.1f},{floor}"
        drawn.append(f'<polygon points="{shape}" fill="{stroke}" fill-opacity="0.15"/>')
    drawn.append(
        f'<polyline points="{points}" fill="none" stroke="{stroke}" stroke-width="2"><title>{label}</title>'
        "</polyline>"
    )
    if len(run) == 1:  # a single value has no line: mark it
        drawn.append(f'<circle cx="{run[0][0]:.1f}" cy="{run[0][1]:.1f}" r="3" fill="{stroke}"/>')
    return drawn


def _legend(names: Sequence[str]) -> list[str]:
    parts = []
    for index, name in enumerate(names):
        x = _LEFT + (index % 4) * 140
        y = 12 + (index // 4) * 14  # above the plot (a fifth series starts a row over its top)
        parts.append(f'<rect x="{x}" y="{y - 8}" width="10" height="10" fill="{colour(index)}"/>')
        parts.append(f'<text x="{x + 14}" y="{y + 1}" fill="#111827">{escape(name)}</text>')
    return parts


def _svg(title: str, parts: Sequence[str]) -> str:
    words = escape(title)
    return (
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{words}" font-size="11" '
        f'font-family="sans-serif"><title>{words}</title>{"".join(parts)}</svg>'
    )
