"""``sigma-aetl ingest`` and Ctrl-C: the batch in flight is stored, the run says how far it got and exits
130, and rerunning the same command finishes the file with nothing duplicated and nothing lost."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from cli_support import CONTRACTS, Cli, clean_environ
from sigma_aetl.ingest.pipeline import Pipeline, Prepared
from sigma_aetl.stores.base import PendingWrite
from sigma_aetl.testing import INVALID_SHIPMENT, TRUNCATED, VALID_SHIPMENT, wait_until

LINES = 60_000
TIMEOUT = 120


def big_file(path: Path) -> set[int]:
    """Write ``LINES`` lines: distinct valid shipments, repeated bad lines, blank lines; return the numbers
    of the lines that carry an event."""
    shipment = b'{"shipment_id": "INT-%d", "weight_kg": 2.5, "destination": "Cork", "priority": 1}'
    lines, events = [], set()
    for number in range(1, LINES + 1):
        kind = number % 10
        line = (
            b""
            if kind == 0
            else INVALID_SHIPMENT
            if kind == 3
            else TRUNCATED
            if kind == 7
            else shipment % number
        )
        lines.append(line)
        if line:
            events.add(number)
    path.write_bytes(b"\n".join(lines) + b"\n")
    return events


def stored_lines(db: Path) -> list[int]:
    """The source line of every stored record and failure, read behind the store's back."""
    if not db.exists():
        return []
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
        try:
            rows = conn.execute(
                "SELECT json_extract(doc, '$.source.line') FROM records "
                "UNION ALL SELECT json_extract(doc, '$.source.line') FROM failures"
            ).fetchall()
        except sqlite3.OperationalError:  # the tables are not created yet
            return []
    return sorted(int(line) for (line,) in rows)


def ingest_process(tmp_path: Path, path: Path) -> subprocess.Popen[bytes]:
    """``python -m sigma_aetl ingest`` in its own process group, as a shell runs a foreground job."""
    argv = [sys.executable, "-m", "sigma_aetl", "--store", f"sqlite:///{tmp_path}/t.db"]
    argv += ["--contracts", str(CONTRACTS), "ingest", "shipment@1", str(path), "--json"]
    argv += ["--transaction-size", "500"]
    return subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=clean_environ(),
        start_new_session=True,
    )


def test_ctrl_c_stores_the_batch_in_flight_and_a_rerun_finishes_the_file(tmp_path: Path) -> None:
    """SIGINT to the job's process group mid-file: exit 130, exactly the events up to the last line stored
    are in the store, and the message says so; the same command again stores every other line once."""
    path, db = tmp_path / "big.jsonl", tmp_path / "t.db"
    events = big_file(path)
    first = ingest_process(tmp_path, path)
    try:
        wait_until(lambda: len(stored_lines(db)) >= 3000, 60, "a few stored batches")
    finally:
        os.killpg(first.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole foreground group
    out, err = first.communicate(timeout=TIMEOUT)
    assert first.returncode == 130, err.decode()
    summary = json.loads(out)
    last = summary["last_line_stored"]
    assert summary["interrupted"] is True
    assert 0 < last < LINES
    assert summary["lines_read"] == last
    before = stored_lines(db)
    assert before == sorted(line for line in events if line <= last)
    assert summary["accepted"] + summary["failed"] == len(before) == summary["events_read"]
    message = err.decode()
    assert f"every event up to line {last:,} is stored" in message
    assert "Rerunning the same command resumes safely" in message

    second = ingest_process(tmp_path, path)
    out, err = second.communicate(timeout=TIMEOUT)
    assert second.returncode == 0, err.decode()
    rest = json.loads(out)
    assert rest["interrupted"] is False
    assert rest["duplicates"] == len(before)
    assert rest["accepted"] + rest["failed"] == len(events) - len(before)
    assert stored_lines(db) == sorted(events)


def test_an_interrupted_run_says_how_far_it_got(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """A SIGINT as the second batch is written: that batch is still stored, nothing after it is read, and
    the table is followed by how far it got and how to resume; exit code 130."""
    submit, calls = Pipeline.submit, []

    def interrupted(self: Pipeline, prepared: Prepared) -> PendingWrite:
        calls.append(len(prepared.items))
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGINT)
        return submit(self, prepared)

    monkeypatch.setattr(Pipeline, "submit", interrupted)
    lines = [VALID_SHIPMENT.replace(b"SHIP-TRUE-003", b"S-%d" % n) for n in range(10)]
    result = cli.run("ingest", "shipment@1", str(cli.jsonl(*lines)), "--transaction-size", "2")
    assert result.exit_code == 130, result.output
    assert calls == [2, 2]
    assert "accepted (new)       4" in result.stdout
    assert "interrupted: 4 lines read; every event up to line 4 is stored" in result.stderr
    assert "Rerunning the same command resumes safely" in result.stderr
    assert cli.stats()["accepted_total"] == 4
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_second_ctrl_c_stops_at_once_and_rerunning_is_still_safe(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two SIGINTs before the second batch is written: it is never written, the run exits 130 saying what
    is stored, and the same command again stores the rest once."""
    submit, calls = Pipeline.submit, []

    def interrupted_twice(self: Pipeline, prepared: Prepared) -> PendingWrite:
        calls.append(len(prepared.items))
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGINT)  # the default handler now: KeyboardInterrupt, here
        return submit(self, prepared)

    monkeypatch.setattr(Pipeline, "submit", interrupted_twice)
    path = cli.jsonl(*[VALID_SHIPMENT.replace(b"SHIP-TRUE-003", b"T-%d" % n) for n in range(6)])
    result = cli.run("ingest", "shipment@1", str(path), "--transaction-size", "2", "--json")
    assert result.exit_code == 130, result.output
    summary = json.loads(result.stdout)
    assert (summary["interrupted"], summary["accepted"], summary["last_line_stored"]) == (True, 2, 2)
    assert "every event up to line 2 is stored" in result.stderr
    monkeypatch.undo()
    rest = cli.ingest(path, "shipment@1", "--transaction-size", "2")
    assert (rest["accepted"], rest["duplicates"], rest["interrupted"]) == (4, 2, False)
    assert cli.stats()["accepted_total"] == 6
