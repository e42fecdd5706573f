"""``sigma-aetl replay``: its summary, dry run and exit codes, and a real process killed mid-replay."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from cli_support import CONTRACTS, Cli, clean_environ
from replay_support import jsonl, v2_shaped
from sigma_aetl.testing import wait_until

FAILURES = 12_000
TIMEOUT = 120
TO_V2 = ("replay", "--to", "shipment@2", "--allow-draft")


def sent_to_v1(cli: Cli, tmp_path: Path, data: bytes) -> None:
    """Ingest ``data`` (JSON Lines) as shipment@1: the producer bug."""
    path = tmp_path / "sent.jsonl"
    path.write_bytes(data)
    cli.run("ingest", "shipment@1", str(path))


def count(db: Path, table: str) -> int:
    """Rows of ``table``, read behind the store's back (0 before the table exists)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
        try:
            found: int = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        except sqlite3.OperationalError:
            return 0
        return found


def test_a_replay_prints_its_summary_and_exits_0_when_every_failure_passes(cli: Cli, tmp_path: Path) -> None:
    """Every selected failure replayed: the summary table says how many, and the exit code is 0."""
    sent_to_v1(cli, tmp_path, jsonl(3))
    result = cli.run(*TO_V2)
    assert result.exit_code == 0, result.output
    assert "replayed into shipment@2" in result.output
    assert "replayed        3" in result.output


def test_a_dry_run_writes_nothing_and_shows_the_same_summary(cli: Cli, tmp_path: Path) -> None:
    """--dry-run --json reports what the replay would do; nothing is stored, and the replay then does it."""
    sent_to_v1(cli, tmp_path, jsonl(4) + b'{"shipment_id": ""}\n')
    dry = cli.run(*TO_V2, "--dry-run", "--json")
    assert dry.exit_code == 1, dry.output  # one still fails
    assert count(cli.db, "records") == 0
    assert count(cli.db, "replay_runs") == 0
    real = cli.run(*TO_V2, "--json")
    assert json.loads(dry.output)["summary"] == json.loads(real.output)["summary"]
    assert json.loads(real.output)["summary"]["replayed"] == 4


def test_a_draft_target_needs_allow_draft(cli: Cli, tmp_path: Path) -> None:
    """Replaying into a draft without --allow-draft exits 2 and says how to release it or allow it."""
    sent_to_v1(cli, tmp_path, jsonl(1))
    result = cli.run("replay", "--to", "shipment@2")
    assert result.exit_code == 2
    assert "is a draft" in result.output
    assert count(cli.db, "records") == 0


def test_an_unknown_target_exits_2(cli: Cli) -> None:
    """A target that is not registered exits 2, naming the known versions."""
    result = cli.run("replay", "--to", "shipment@7", "--allow-draft")
    assert result.exit_code == 2
    assert "no version '7'" in result.output


def replay_process(tmp_path: Path) -> subprocess.Popen[bytes]:
    """``python -m sigma_aetl replay`` into shipment@2 in its own process group (it and its SQLite writer)."""
    argv = [sys.executable, "-m", "sigma_aetl", "--store", f"sqlite:///{tmp_path}/t.db"]
    argv += ["--contracts", str(CONTRACTS), *TO_V2, "--batch-size", "100", "--json"]
    return subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_environ(), start_new_session=True
    )


def test_a_replay_killed_mid_way_then_run_again_leaves_one_record_per_failure(
    cli: Cli, tmp_path: Path
) -> None:
    """SIGKILL to a real replay of thousands of failures part-way, then the same replay again: exactly one
    shipment@2 record per failure, each with its lineage, and one resolution per failure."""
    sent_to_v1(cli, tmp_path, jsonl(FAILURES))
    assert count(cli.db, "failures") == FAILURES
    first = replay_process(tmp_path)
    try:
        wait_until(lambda: count(cli.db, "records") >= 1000, 60, "a few replayed batches")
    finally:
        os.killpg(first.pid, signal.SIGKILL)
    first.communicate(timeout=TIMEOUT)
    assert first.returncode == -signal.SIGKILL
    killed_at = count(cli.db, "records")
    assert 0 < killed_at < FAILURES, "the replay must be killed part-way"
    assert count(cli.db, "lineage") == count(cli.db, "resolutions") == killed_at

    second = replay_process(tmp_path)
    out, err = second.communicate(timeout=TIMEOUT)
    assert second.returncode == 0, err.decode()
    summary = json.loads(out)["summary"]
    assert summary["replayed"] + summary["duplicates"] == FAILURES
    assert summary["duplicates"] == killed_at
    assert count(cli.db, "records") == count(cli.db, "lineage") == FAILURES
    assert count(cli.db, "resolutions") == FAILURES
    with sqlite3.connect(cli.db) as conn:
        resolved = conn.execute("SELECT count(DISTINCT failure_id) FROM resolutions").fetchone()[0]
        states = [row[0] for row in conn.execute("SELECT json_extract(doc, '$.state') FROM replay_runs")]
    assert resolved == FAILURES
    assert sorted(states) == ["done", "running"]  # the killed run could not say so; its records are whole


def test_v2_shaped_helper_is_refused_by_v1(cli: Cli, tmp_path: Path) -> None:
    """The producer bug the replay tests use really fails shipment@1 (so the replays above replay it)."""
    path = tmp_path / "one.json"
    path.write_bytes(v2_shaped(1))
    result = cli.run("validate", "shipment@1", str(path))
    assert result.exit_code == 1


def test_failures_show_gives_the_resolution_beside_the_failure(cli: Cli, tmp_path: Path) -> None:
    """After a replay, `failures show` lists the record that resolved the failure (JSON and table); before
    it, the failure shows none."""
    sent_to_v1(cli, tmp_path, jsonl(1))
    [failure] = json.loads(cli.run("failures", "list", "--json").output)["items"]
    before = json.loads(cli.run("failures", "show", failure["failure_id"], "--json").output)
    assert "resolutions" not in before
    run = json.loads(cli.run(*TO_V2, "--json").output)
    after = json.loads(cli.run("failures", "show", failure["failure_id"], "--json").output)
    [resolution] = after.pop("resolutions")
    assert after == before
    assert resolution["replay_id"] == run["replay_id"]
    assert "resolved by replay" in cli.run("failures", "show", failure["failure_id"]).output


def test_the_audit_after_a_replay_finds_zero_drift(cli: Cli, tmp_path: Path) -> None:
    """After a replay (records with lineage, one still failing, one identity conflict), the audit over the
    whole store reproduces every stored decision: exit 0."""
    sent_to_v1(cli, tmp_path, jsonl(5) + b'{"shipment_id": "HEAVY", "weight_kg": 2000}\n')
    other = tmp_path / "v2.jsonl"
    other.write_bytes(v2_shaped(0, destination="Galway") + b"\n")  # SHIP-0 already stored as shipment@2
    cli.run("ingest", "shipment@2", str(other))
    replayed = json.loads(cli.run(*TO_V2, "--json").output)["summary"]
    assert (replayed["replayed"], replayed["conflicts"], replayed["still_failing"]) == (4, 1, 1)
    audit = cli.run("audit")
    assert audit.exit_code == 0, audit.output
    assert "drifted              0" in audit.output
