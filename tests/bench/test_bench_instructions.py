"""The instruction-count part (bench/instructions.py): its workload answers every request, and without
Valgrind the part reports nothing measured rather than a made-up count."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from bench.context import Context

from bench import instructions

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("app", list(instructions.APPS))
def test_the_workload_answers_every_request_200(app: str, tmp_path: Path) -> None:
    """Each app the part counts answers the 50 templates of POST /api/validate with 200 (PASSED or FAILED
    in the body), as served by uvicorn."""
    command = [sys.executable, "-m", "bench.instructions", app, "1", str(tmp_path)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines()[-1] == "answered 200"


def test_per_request_is_the_difference_of_two_runs_over_the_requests_between(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Start-up and warm-up cancel out: only the instructions of the extra rounds, per request, remain."""
    monkeypatch.setattr(instructions, "counted", lambda _v, _a, rounds, _w: 1_000_000 + rounds * 50 * 300)
    assert instructions.per_request("valgrind", "gateway", 40, tmp_path) == 300


def test_without_valgrind_nothing_is_reported_as_measured(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """No valgrind on the machine: every row is there without a figure, and a note says how to install it."""
    from bench.cli import options_from, parser  # noqa: PLC0415

    monkeypatch.setattr(shutil, "which", lambda _name: None)
    options = options_from(parser().parse_args(["instructions", "--quick"]), tmp_path)
    part = instructions.run(Context(options))
    assert [row.figure for row in part.rows] == [None] * len(instructions.APPS)
    assert any("apt-get install valgrind" in note for note in part.notes)
