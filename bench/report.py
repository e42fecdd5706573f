"""The report: tables on the console, sections of ``docs/benchmarks.md``, and a JSON file of the figures.

Each part owns one section of the Markdown file, between ``<!-- bench:NAME -->`` and ``<!-- /bench:NAME -->``;
a run replaces only the sections of the parts it ran, so hand-written text and other parts' latest figures
stay. A section missing from the file is added before ``<!-- bench:end -->`` (or at the end).
"""

import re
from dataclasses import asdict
from pathlib import Path
from typing import Any

import orjson

from bench.machine import Machine, Stamp
from bench.profile import Profile
from bench.pyspy import View
from bench.stats import PartResult, Row

SECTION_ORDER = (
    "machine",
    "validator",
    "ingest",
    "profile-ingest",
    "growth",
    "http-single",
    "profile-http-validate",
    "profile-http-ingest",
    "http-batch",
    "profile-http-batch",
    "kafka",
    "memory",
)
SKELETON = "# Benchmarks\n\nWritten by `bench/run` (see `python -m bench --help`).\n\n<!-- bench:end -->\n"
_COLUMNS = ("metric", "median", "min - max", "unit", "target", "verdict", "peak RSS MiB", "note")


def number(value: float, unit: str) -> str:
    """``value`` written for ``unit``: rates as integers with separators, times and ratios with decimals."""
    if unit in ("events/s", "req/s", "B"):
        return f"{value:,.0f}"
    if unit in ("x", "MiB/min", "ms"):
        return f"{value:.2f}"
    return f"{value:.1f}"


def cells(row: Row) -> list[str]:
    """The table cells of one row."""
    fig = row.figure
    return [
        row.metric,
        number(fig.median, row.unit) if fig else "—",
        f"{number(fig.low, row.unit)} - {number(fig.high, row.unit)}" if fig and len(fig.samples) > 1 else "",
        row.unit,
        _target(row),
        row.verdict,
        f"{row.rss_mib.high:.0f}" if row.rss_mib else "",
        row.note,
    ]


def _target(row: Row) -> str:
    if row.target is None:
        return ""
    symbol = "≥" if row.target.op == ">=" else "≤"
    return f"{symbol} {number(row.target.value, row.unit)}"


def console(part: PartResult) -> str:
    """A plain-text table for the terminal."""
    rows = [list(_COLUMNS), *(cells(row) for row in part.rows)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    return "\n".join([f"== {part.title}", *lines, *(f"   {note}" for note in part.notes)])


def part_markdown(part: PartResult, machine: Machine, since: Stamp) -> str:
    """One part's section: heading, when and where, table, notes."""
    table = [_md_row(list(_COLUMNS)), _md_row(["---", "---:", "---:", "---", "---", "---", "---:", "---"])]
    table += [_md_row(cells(row)) for row in part.rows]
    notes = [f"- {note}" for note in part.notes]
    return "\n".join([f"### {part.title}", "", f"_Measured {machine.line(since)}._", "", *table, "", *notes])


def profile_markdown(profile: Profile, machine: Machine, since: Stamp) -> str:
    """A profile's section: how it was taken, then each view."""
    lines = [
        f"### Profile: {profile.target}",
        "",
        f"_Recorded {machine.line(since)} with py-spy: {profile.how}._",
    ]
    if profile.gil_busy is not None:
        lines += ["", f"The GIL was held {profile.gil_busy:.0%} of the sampled time (100 % = one core busy)."]
    for view in profile.views:
        lines += ["", *view_markdown(view)]
    return "\n".join(lines)


def view_markdown(view: View) -> list[str]:
    """Top functions by own and by inclusive time, side by side, then own time by area."""
    lines = [
        f"**{view.title}** ({view.total:,} samples)",
        "",
        "| own | function | inclusive | sigma_aetl function |",
        "| ---: | --- | ---: | --- |",
    ]
    for (name, share), (outer, outer_share) in zip(
        view.top(view.own), view.top(view.inclusive), strict=False
    ):
        lines.append(f"| {share:.1f} % | `{name}` | {outer_share:.1f} % | `{outer}` |")
    areas = ", ".join(f"{name} {share:.1f} %" for name, share in view.top(view.areas, 12))
    return [*lines, "", f"Own time by area: {areas}."]


def machine_markdown(machine: Machine, note: str) -> str:
    """The latest run's machine."""
    libraries = ", ".join(f"{name} {version}" for name, version in machine.libraries.items())
    load = " / ".join(f"{value:.2f}" for value in machine.load)
    lines = [
        "### Machine of the latest run",
        "",
        f"- Date: {machine.date}; commit {machine.commit}",
        f"- CPU: {machine.cpu}, {machine.cores} cores; RAM {machine.ram_gib:.1f} GiB",
        f"- Python {machine.python}, SQLite {machine.sqlite}",
        f"- Libraries: {libraries}",
        f"- Load average when the run started (1/5/15 min): {load}",
    ]
    if note:
        lines.append(f"- Note: {note}")
    return "\n".join(lines)


def _md_row(values: list[str]) -> str:
    return "| " + " | ".join(value.replace("|", "\\|") for value in values) + " |"


def write_sections(path: Path, sections: dict[str, str]) -> None:
    """Replace (or add) the named sections of the Markdown file at ``path``."""
    text = path.read_text() if path.exists() else SKELETON
    for name in sorted(sections, key=_order):
        text = _replace(text, name, sections[name])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _order(name: str) -> int:
    return SECTION_ORDER.index(name) if name in SECTION_ORDER else len(SECTION_ORDER)


def _replace(text: str, name: str, body: str) -> str:
    block = f"<!-- bench:{name} -->\n{body.rstrip()}\n<!-- /bench:{name} -->"
    pattern = re.compile(rf"<!-- bench:{re.escape(name)} -->.*?<!-- /bench:{re.escape(name)} -->", re.DOTALL)
    if pattern.search(text):
        return pattern.sub(lambda _: block, text, count=1)
    end = "<!-- bench:end -->"
    if end in text:
        return text.replace(end, f"{block}\n\n{end}", 1)
    return f"{text.rstrip()}\n\n{block}\n"


def results_json(machine: Machine, parts: list[PartResult], profiles: list[Profile]) -> bytes:
    """Every figure of the run as JSON (for tools and for the smoke test)."""
    document: dict[str, Any] = {
        "machine": asdict(machine),
        "parts": {part.name: _part_json(part) for part in parts},
        "profiles": {p.target: [_view_json(view) for view in p.views] for p in profiles},
    }
    return orjson.dumps(document, option=orjson.OPT_INDENT_2)


def _part_json(part: PartResult) -> dict[str, Any]:
    return {"title": part.title, "rows": [_row_json(row) for row in part.rows], "notes": part.notes}


def _row_json(row: Row) -> dict[str, Any]:
    fig = row.figure
    return {
        "metric": row.metric,
        "unit": row.unit,
        "samples": list(fig.samples) if fig else None,
        "median": fig.median if fig else None,
        "target": asdict(row.target) if row.target else None,
        "verdict": row.verdict,
        "peak_rss_mib": row.rss_mib.high if row.rss_mib else None,
        "note": row.note,
    }


def _view_json(view: View) -> dict[str, Any]:
    return {"title": view.title, "samples": view.total, "own": view.top(view.own)}
