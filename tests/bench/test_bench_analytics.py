"""Smoke run of the benchmark's analytics part with a tiny store, so it does not rot (it measures nothing)."""

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_analytics_part_times_every_endpoint_call(tmp_path: Path) -> None:
    """``bench analytics`` fills a store and reports a positive time for each endpoint's store call."""
    command = [sys.executable, "-m", "bench", "analytics", "--runs", "1", "--scale", "2000"]
    command += ["--output", str(tmp_path / "benchmarks.md"), "--json", str(tmp_path / "figures.json")]
    command += ["--workdir", str(tmp_path / "work")]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = json.loads((tmp_path / "figures.json").read_text())["parts"]["analytics"]["rows"]
    assert rows[0]["metric"] == "fill: 2,000 events inserted directly"
    assert len(rows) == 11
    assert all(row["median"] > 0 for row in rows)
    assert "<!-- bench:analytics -->" in (tmp_path / "benchmarks.md").read_text()
