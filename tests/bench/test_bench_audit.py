"""Smoke run of the benchmark's audit part with a tiny store, so it does not rot (it measures nothing)."""

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_audit_part_reports_a_rate_and_no_drift(tmp_path: Path) -> None:
    """``bench audit`` fills a store, audits it, and reports a positive rate with every decision identical."""
    command = [sys.executable, "-m", "bench", "audit", "--runs", "1", "--audit-events", "300"]
    command += ["--output", str(tmp_path / "benchmarks.md"), "--json", str(tmp_path / "figures.json")]
    command += ["--workdir", str(tmp_path / "work")]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (row,) = json.loads((tmp_path / "figures.json").read_text())["parts"]["audit"]["rows"]
    assert row["median"] > 0
    assert row["metric"] == "audit of 300 stored events"
    assert "drift" not in row["note"]
    assert "<!-- bench:audit -->" in (tmp_path / "benchmarks.md").read_text()
