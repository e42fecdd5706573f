"""``sigma-aetl ingest``: the acceptance cases, run through the command line against a real SQLite store."""

import json
from pathlib import Path
from typing import Any

import pytest

from cli_support import Cli
from sigma_aetl.core.ids import record_id
from sigma_aetl.errors import StoreUnavailable
from sigma_aetl.ingest.pipeline import Pipeline, Prepared
from sigma_aetl.stores.base import FailureQuery, PendingWrite
from sigma_aetl.testing import (
    EXTRA_FIELD,
    HEAVY_SHIPMENT,
    INVALID_SHIPMENT,
    INVALID_UTF8,
    STRING_PRIORITY,
    TRUNCATED,
    VALID_SHIPMENT,
)


@pytest.mark.parametrize("batch_size", ["1", "2", "1000"])
def test_same_valid_event_four_times_is_stored_once(cli: Cli, batch_size: str) -> None:
    """A valid event sent four times is one accepted record and three duplicates, however it is batched."""
    summary = cli.ingest(cli.jsonl(*[VALID_SHIPMENT] * 4), "shipment@1", "--transaction-size", batch_size)
    assert summary["events_read"] == 4
    assert summary["accepted"] == 1
    assert summary["duplicates"] == 3
    assert summary["accepted_duplicates"] == 3
    assert summary["failure_duplicates"] == 0
    assert summary["failed"] == 0
    stats = cli.stats()
    assert stats["accepted_total"] == 1
    assert stats["failures_total"] == 0
    with cli.store() as store:
        record = store.get_record(record_id("shipment", 1, ["SHIP-TRUE-003"]))
    assert record is not None
    assert record.raw.to_bytes() == VALID_SHIPMENT


def test_human_summary_reports_accepted_and_duplicates(cli: Cli) -> None:
    """Without --json the summary is a readable table with the same counts."""
    result = cli.run("ingest", "shipment@1", str(cli.jsonl(*[VALID_SHIPMENT] * 4)))
    assert result.exit_code == 0, result.output
    assert "accepted (new)       1" in result.stdout
    assert "duplicates           3 (3 accepted, 0 failures)" in result.stdout
    assert "events/s" in result.stdout


def test_identical_invalid_lines_are_a_failure_each_and_a_rerun_writes_nothing(cli: Cli) -> None:
    """An invalid event on three lines is three failure records (a file's line is its source identity),
    each with every error; ingesting the file again writes nothing new."""
    path = cli.jsonl(*[INVALID_SHIPMENT] * 3)
    first = cli.ingest(path)
    second = cli.ingest(path)
    assert (first["failed"], first["failure_duplicates"]) == (3, 0)
    assert (second["failed"], second["failure_duplicates"]) == (0, 3)
    assert first["accepted"] == second["accepted"] == 0
    stats = cli.stats()
    assert (stats["accepted_total"], stats["failures_total"]) == (0, 3)
    with cli.store() as store:
        failures = store.query_failures(FailureQuery()).items
    assert sorted(failure.source["line"] for failure in failures) == [1, 2, 3]
    for failure in failures:
        assert failure.fields == ["priority", "shipment_id", "weight_kg"]
        causes = {error.path: error.root_cause.value for error in failure.errors}
        assert causes["priority"] == "missing_field"
        assert failure.root_cause.value == "missing_field"


def test_a_file_rewritten_at_the_same_path_is_new_data(cli: Cli) -> None:
    """Other bytes at the same path and line are another event: a rewritten file's failures are stored."""
    cli.ingest(cli.jsonl(INVALID_SHIPMENT))
    rewritten = cli.ingest(cli.jsonl(TRUNCATED))
    assert (rewritten["failed"], rewritten["failure_duplicates"]) == (1, 0)
    assert cli.stats()["failures_total"] == 2


def test_the_same_lines_from_another_path_are_other_events(cli: Cli) -> None:
    """A failure belongs to its file: a copy of the file elsewhere stores its failures again."""
    cli.ingest(cli.jsonl(INVALID_SHIPMENT, VALID_SHIPMENT))
    copy = cli.ingest(cli.jsonl(INVALID_SHIPMENT, VALID_SHIPMENT, name="copy.jsonl"))
    assert (copy["failed"], copy["accepted"], copy["accepted_duplicates"]) == (1, 0, 1)


@pytest.mark.parametrize(
    ("payload", "root_cause"),
    [
        (HEAVY_SHIPMENT, "business_rule_violation"),
        (STRING_PRIORITY, "type_mismatch"),
        (EXTRA_FIELD, "unexpected_field"),
        (TRUNCATED, "malformed_json"),
        (INVALID_UTF8, "invalid_encoding"),
    ],
)
def test_invalid_line_is_stored_with_its_root_cause_and_exact_bytes(
    cli: Cli, payload: bytes, root_cause: str
) -> None:
    """Each kind of bad line becomes one failure with the expected root cause and the line's exact bytes
    (a file that is not UTF-8 at its start takes --force)."""
    summary = cli.ingest(cli.jsonl(payload), "shipment@1", "--force")
    assert (summary["accepted"], summary["failed"]) == (0, 1)
    with cli.store() as store:
        [failure] = store.query_failures(FailureQuery()).items
    assert failure.root_cause.value == root_cause
    assert failure.raw.to_bytes() == payload
    assert failure.raw.encoding == ("base64" if payload == INVALID_UTF8 else "utf-8")


def test_reingesting_a_file_writes_nothing_new(cli: Cli) -> None:
    """Ingesting the same file twice stores nothing new the second time."""
    lines = [VALID_SHIPMENT, INVALID_SHIPMENT, HEAVY_SHIPMENT, STRING_PRIORITY, EXTRA_FIELD, TRUNCATED]
    path = cli.jsonl(*lines, INVALID_UTF8)
    first = cli.ingest(path, "shipment@1", "--force")
    before = cli.stats()
    second = cli.ingest(path, "shipment@1", "--force")
    assert (first["accepted"], first["failed"]) == (1, 6)
    assert (second["accepted"], second["failed"]) == (0, 0)
    assert (second["accepted_duplicates"], second["failure_duplicates"]) == (1, 6)
    # Records only: a file event's failure is identified by its bytes until the file source gives it its
    # path and line, so a re-read counts its arrivals again (docs/failures.md, occurrences).
    assert _records(cli.stats()) == _records(before)


def _records(stats: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in stats.items() if not key.startswith("failure_occurrences")}


def test_crlf_line_endings_and_blank_lines(cli: Cli) -> None:
    """CRLF terminators are not part of an event, and blank or whitespace-only lines are skipped."""
    path = cli.jsonl(VALID_SHIPMENT, b"", INVALID_SHIPMENT, b"   ", newline=b"\r\n")
    summary = cli.ingest(path)
    assert summary["events_read"] == 2
    assert summary["blank_lines_skipped"] == 2
    assert (summary["accepted"], summary["failed"]) == (1, 1)
    with cli.store() as store:
        [failure] = store.query_failures(FailureQuery()).items
    assert failure.raw.to_bytes() == INVALID_SHIPMENT
    assert failure.source["line"] == 3


def test_records_name_the_file_by_absolute_path_and_line(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure records the absolute path and line of its file, even when given a relative path."""
    cli.jsonl(VALID_SHIPMENT, HEAVY_SHIPMENT)
    monkeypatch.chdir(cli.tmp_path)
    summary = cli.ingest(Path("events.jsonl"))
    assert summary["file"] == "events.jsonl"
    with cli.store() as store:
        [failure] = store.query_failures(FailureQuery()).items
    assert failure.source == {
        "kind": "file",
        "path": str(cli.tmp_path / "events.jsonl"),
        "line": 2,
        "offset": len(VALID_SHIPMENT) + 1,
    }


def test_last_line_without_newline_is_an_event(cli: Cli) -> None:
    """A final line with no terminator is still read."""
    path = cli.tmp_path / "events.jsonl"
    path.write_bytes(VALID_SHIPMENT + b"\n" + HEAVY_SHIPMENT)
    assert cli.ingest(path)["events_read"] == 2


@pytest.mark.parametrize(
    ("ref", "message"),
    [("shipment@9", "known versions: 1, 2"), ("parcel@1", "known contracts: order, shipment")],
)
def test_unknown_contract_on_the_command_line_is_refused(cli: Cli, ref: str, message: str) -> None:
    """An unknown contract or version is refused with exit 2, listing the known ones, and writes nothing."""
    result = cli.run("ingest", ref, str(cli.jsonl(VALID_SHIPMENT)))
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert not cli.db.exists()


def test_ref_without_version_is_a_usage_error(cli: Cli) -> None:
    """A contract given without @version is refused before anything runs."""
    result = cli.run("ingest", "shipment", str(cli.jsonl(VALID_SHIPMENT)))
    assert result.exit_code == 2
    assert "NAME@VERSION" in result.stderr
    assert not cli.db.exists()


def test_missing_file_exits_2(cli: Cli) -> None:
    """A file that does not exist is a one-line error with exit code 2, and no store is created."""
    result = cli.run("ingest", "shipment@1", str(cli.tmp_path / "nope.jsonl"))
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {cli.tmp_path / 'nope.jsonl'}: no such file"
    assert not cli.db.exists()


def test_directory_instead_of_file_exits_2(cli: Cli) -> None:
    """A directory is not a JSON Lines file."""
    result = cli.run("ingest", "shipment@1", str(cli.tmp_path))
    assert result.exit_code == 2
    assert "is a directory" in result.stderr


def test_missing_contracts_directory_exits_2(cli: Cli, tmp_path: Path) -> None:
    """A contracts directory that does not exist is reported, not a traceback."""
    path = cli.jsonl(VALID_SHIPMENT)
    result = cli.run("ingest", "shipment@1", str(path), contracts=tmp_path / "none")
    assert result.exit_code == 2
    assert "contracts directory" in result.stderr
    assert "does not exist" in result.stderr


def test_broken_contract_exits_2(cli: Cli, tmp_path: Path) -> None:
    """A contract file that cannot be imported names itself in a one-line error."""
    broken = tmp_path / "broken" / "shipment"
    broken.mkdir(parents=True)
    (broken / "v1.py").write_text("raise ValueError('boom')\n")
    path = cli.jsonl(VALID_SHIPMENT)
    result = cli.run("ingest", "shipment@1", str(path), contracts=tmp_path / "broken")
    assert result.exit_code == 2
    assert "shipment/v1.py: ValueError: boom" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_store_that_cannot_be_opened_exits_2(cli: Cli) -> None:
    """A store URL pointing at a directory is a store error: exit 2, one line."""
    path = cli.jsonl(VALID_SHIPMENT)
    result = cli.run("ingest", "shipment@1", str(path), store=f"sqlite:///{cli.tmp_path}")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: SQLite:")


def test_store_failure_mid_file_says_rerunning_is_safe(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """A store failure mid-file says how far the run got and that re-running the file is safe."""
    calls: list[int] = []
    submit = Pipeline.submit

    def flaky(self: Pipeline, prepared: Prepared) -> PendingWrite:
        calls.append(len(prepared.items))
        if len(calls) == 2:
            raise StoreUnavailable("SQLite: database is locked")
        return submit(self, prepared)

    monkeypatch.setattr(Pipeline, "submit", flaky)
    path = cli.jsonl(VALID_SHIPMENT, HEAVY_SHIPMENT, TRUNCATED)
    result = cli.run("ingest", "shipment@1", str(path), "--transaction-size", "1")
    assert result.exit_code == 2
    assert "database is locked" in result.stderr
    assert "stopped after 1 events were stored; re-running the file is safe" in result.stderr
    monkeypatch.undo()
    assert cli.stats()["accepted_total"] == 1


def test_json_summary_is_the_only_output(cli: Cli) -> None:
    """With --json, stdout is one JSON object with every summary field and nothing else."""
    result = cli.run("ingest", "shipment@1", str(cli.jsonl(VALID_SHIPMENT, TRUNCATED)), "--json")
    assert result.exit_code == 0
    summary = json.loads(result.stdout)
    assert set(summary) == {
        "file",
        "contract",
        "events_read",
        "accepted",
        "failed",
        "duplicates",
        "accepted_duplicates",
        "failure_duplicates",
        "blank_lines_skipped",
        "lines_read",
        "last_line_stored",
        "interrupted",
        "elapsed_seconds",
        "events_per_second",
    }
    assert summary["contract"] == "shipment@1"
    assert (summary["lines_read"], summary["last_line_stored"], summary["interrupted"]) == (2, 2, False)
    assert result.stderr == ""


def test_failures_do_not_make_the_run_fail(cli: Cli) -> None:
    """A file of only invalid events is processed: exit 0, and a hint says where to look."""
    result = cli.run("ingest", "shipment@1", str(cli.jsonl(INVALID_SHIPMENT)))
    assert result.exit_code == 0
    assert "failures list --contract shipment --version 1" in result.stdout
