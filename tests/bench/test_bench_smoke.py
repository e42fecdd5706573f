"""Smoke run of the benchmark harness (bench/) with tiny sizes, so it does not rot.

It checks that the harness runs and reports numbers, never how fast anything is: benchmarks measure, tests
check behaviour. The HTTP part uses the harness's own Python load generator, so it needs no wrk.
"""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
HAND_WRITTEN = "Hand-written text outside the generated sections stays."
STALE = "<!-- bench:validator -->\nstale figures\n<!-- /bench:validator -->"
TINY = [
    *("--runs", "1", "--validator-events", "200", "--events", "300", "--prefill", "600"),
    *("--duration", "1", "--warmup", "0.2", "--connections", "4", "--loadgen", "python", "--no-install"),
]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    """Run the validator, records, ingest and http-single parts once; return the figures and the Markdown."""
    out = tmp_path_factory.mktemp("bench")
    report = out / "benchmarks.md"
    report.write_text(f"# Benchmarks\n\n{HAND_WRITTEN}\n\n{STALE}\n")
    command = [sys.executable, "-m", "bench", "validator", "records", "ingest", "http-single", *TINY]
    command += ["--output", str(report), "--json", str(out / "figures.json"), "--workdir", str(out / "work")]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads((out / "figures.json").read_text()), report.read_text()


@pytest.mark.parametrize("part", ["validator", "records", "ingest", "http-single"])
def test_every_figure_is_a_positive_number(smoke: tuple[dict[str, Any], str], part: str) -> None:
    """Each part of the smoke run reports a positive median for every row (CPU per event: a number, which
    a few hundred events can leave below the start-up run's noise)."""
    figures, _ = smoke
    rows = figures["parts"][part]["rows"]
    assert rows
    cpu = [row for row in rows if "CPU per event" in row["metric"]]
    rest = [row for row in rows if row not in cpu]
    assert all(row["median"] is not None and row["median"] > 0 for row in rest), rest
    assert all(isinstance(row["median"], float) for row in cpu), cpu


def test_the_report_gets_a_table_per_part(smoke: tuple[dict[str, Any], str]) -> None:
    """The Markdown report gets the machine section and one table per part, with targets judged."""
    _, markdown = smoke
    for section in ("machine", "validator", "records", "ingest", "http-single"):
        assert f"<!-- bench:{section} -->" in markdown
    assert markdown.count("| metric | median |") == 4
    assert "PASS" in markdown or "MISS" in markdown


def test_the_report_keeps_hand_written_text(smoke: tuple[dict[str, Any], str]) -> None:
    """Regenerating a section replaces its old figures and leaves the text around it alone."""
    _, markdown = smoke
    assert HAND_WRITTEN in markdown
    assert "stale figures" not in markdown
