"""The installed entry points as real processes: the ``sigma-aetl`` script and ``python -m sigma_aetl``."""

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from cli_support import CONTRACTS, SCRIPT, clean_environ
from sigma_aetl.testing import INVALID_SHIPMENT, INVALID_UTF8, VALID_SHIPMENT

TIMEOUT = 60


def sigma(tmp_path: Path, *args: str, module: bool = False) -> subprocess.CompletedProcess[str]:
    """Run the console script (or ``python -m sigma_aetl``) on a store in ``tmp_path``."""
    program = [sys.executable, "-m", "sigma_aetl"] if module else [str(SCRIPT)]
    argv = [*program, "--store", f"sqlite:///{tmp_path}/t.db", "--contracts", str(CONTRACTS), *args]
    return subprocess.run(
        argv, capture_output=True, text=True, cwd=tmp_path, env=clean_environ(), timeout=TIMEOUT, check=False
    )


@pytest.fixture
def events(tmp_path: Path) -> Path:
    """A JSON Lines file: a valid event four times, an invalid one twice, and a line that is not UTF-8
    (so ingesting it takes --force)."""
    path = tmp_path / "events.jsonl"
    lines = [*[VALID_SHIPMENT] * 4, INVALID_SHIPMENT, INVALID_SHIPMENT, INVALID_UTF8]
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


def test_console_script_ingests_and_counts(tmp_path: Path, events: Path) -> None:
    """The installed script ingests a file and ``stats --json`` then counts what was stored once."""
    ingested = sigma(tmp_path, "ingest", "shipment@1", str(events), "--json", "--force")
    assert ingested.returncode == 0, ingested.stderr
    summary = json.loads(ingested.stdout)
    assert (summary["accepted"], summary["failed"], summary["duplicates"]) == (1, 3, 3)
    stats = sigma(tmp_path, "stats", "--json")
    assert json.loads(stats.stdout)["accepted_total"] == 1
    assert json.loads(stats.stdout)["failures_total"] == 3


def test_console_script_progress_is_not_shown_in_a_pipe(tmp_path: Path, events: Path) -> None:
    """With stdout piped, the human summary is printed with no progress bar."""
    result = sigma(tmp_path, "ingest", "shipment@1", str(events), "--force")
    assert result.returncode == 0, result.stderr
    assert "accepted (new)" in result.stdout
    assert "ingesting" not in result.stdout
    assert "\x1b" not in result.stdout


def test_progress_bar_on_a_real_terminal(tmp_path: Path, events: Path) -> None:
    """With stdout on a pseudo-terminal, a progress bar is drawn before the summary."""
    controller, terminal = pty.openpty()
    env = {**clean_environ(), "TERM": "xterm", "COLUMNS": "120"}
    argv = [str(SCRIPT), "--store", f"sqlite:///{tmp_path}/t.db", "--contracts", str(CONTRACTS)]
    process = subprocess.Popen(
        [*argv, "ingest", "shipment@1", str(events), "--force"],
        stdout=terminal,
        stderr=subprocess.PIPE,
        env=env,
    )
    os.close(terminal)
    output = read_all(controller)
    assert process.wait(timeout=TIMEOUT) == 0
    assert process.stderr is not None
    process.stderr.close()
    assert "ingesting events.jsonl" in output
    assert "accepted (new)" in output


def read_all(fd: int) -> str:
    """Everything written to a pseudo-terminal until its other end closes."""
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks).decode("utf-8", "replace")


def test_module_entry_point_validate_exit_codes(tmp_path: Path) -> None:
    """``python -m sigma_aetl validate`` exits 0 for a valid payload and 1 for an invalid one."""
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_bytes(VALID_SHIPMENT)
    bad.write_bytes(INVALID_SHIPMENT)
    assert sigma(tmp_path, "validate", "shipment@1", str(good), module=True).returncode == 0
    failed = sigma(tmp_path, "validate", "shipment@1", str(bad), "--json", module=True)
    assert failed.returncode == 1
    assert json.loads(failed.stdout)["root_cause"] == "missing_field"


def test_operational_error_is_one_line_without_traceback(tmp_path: Path) -> None:
    """A missing file is exit code 2 and a single line on stderr, with no traceback and no store created."""
    result = sigma(tmp_path, "ingest", "shipment@1", "missing.jsonl")
    assert result.returncode == 2
    assert result.stderr == "error: missing.jsonl: no such file\n"
    assert result.stdout == ""
    assert not (tmp_path / "t.db").exists()


def test_unknown_contract_refused_by_the_script(tmp_path: Path, events: Path) -> None:
    """The script refuses an unknown version with exit 2 before opening the store."""
    result = sigma(tmp_path, "ingest", "shipment@7", str(events))
    assert result.returncode == 2
    assert "known versions: 1, 2" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "t.db").exists()
