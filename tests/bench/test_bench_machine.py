"""The stamp of a benchmark run: the commit measured, and whether the tree differed from it."""

import subprocess
from pathlib import Path

import pytest

from bench import machine


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository with a report and a source file committed, that the stamp reads instead of ours."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "benchmarks.md").write_text("# Benchmarks\n")
    (tmp_path / "code.py").write_text("x = 1\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "start")
    monkeypatch.setattr(machine, "REPO", tmp_path)
    monkeypatch.setattr(machine, "DEFAULT_OUTPUT", tmp_path / "docs" / "benchmarks.md")
    return tmp_path


def test_the_report_the_harness_rewrites_does_not_make_the_tree_dirty(repo: Path) -> None:
    """A changed report leaves the stamp clean; a changed source file marks it +dirty."""
    (repo / "docs" / "benchmarks.md").write_text("# Benchmarks\n\nthe machine section\n")
    assert not machine.commit().endswith("+dirty")
    (repo / "code.py").write_text("x = 2\n")
    assert machine.commit().endswith("+dirty")
