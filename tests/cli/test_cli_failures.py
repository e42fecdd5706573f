"""``sigma-aetl failures list|show|purge``: failure records by root cause, field, contract version, time."""

import base64
import json
import shutil
from pathlib import Path

import pytest

from cli_support import CONTRACTS, Cli
from sigma_aetl.core import serial
from sigma_aetl.stores.base import FailureQuery
from sigma_aetl.testing import (
    EXTRA_FIELD,
    HEAVY_SHIPMENT,
    INVALID_SHIPMENT,
    INVALID_UTF8,
    STRING_PRIORITY,
    TRUNCATED,
    VALID_SHIPMENT,
)

BAD_LINES = (INVALID_SHIPMENT, HEAVY_SHIPMENT, STRING_PRIORITY, EXTRA_FIELD, TRUNCATED, INVALID_UTF8)


@pytest.fixture
def two_versions(tmp_path: Path) -> Path:
    """A contracts directory holding shipment@1 and an identical shipment@2."""
    root = tmp_path / "contracts"
    shutil.copytree(CONTRACTS, root)
    (root / "shipment" / "v2.json").unlink()  # replaced by a copy of v1
    v1 = (root / "shipment" / "v1.py").read_text()
    (root / "shipment" / "v2.py").write_text(v1.replace("version=1", "version=2"))
    return root


@pytest.fixture
def stored(cli: Cli) -> Cli:
    """A store holding one valid event and six failures of six different kinds, all for shipment@1."""
    summary = cli.ingest(cli.jsonl(VALID_SHIPMENT, *BAD_LINES), "shipment@1", "--force")  # one is not UTF-8
    assert (summary["accepted"], summary["failed"]) == (1, 6)
    return cli


def ids(page: dict[str, object]) -> list[str]:
    """The failure ids on a ``failures list --json`` page."""
    items = page["items"]
    assert isinstance(items, list)
    return [item["failure_id"] for item in items]


@pytest.mark.parametrize(
    ("cause", "raw"),
    [
        ("missing_field", INVALID_SHIPMENT),
        ("business_rule_violation", HEAVY_SHIPMENT),
        ("type_mismatch", STRING_PRIORITY),
        ("unexpected_field", EXTRA_FIELD),
        ("malformed_json", TRUNCATED),
        ("invalid_encoding", INVALID_UTF8),
    ],
)
def test_filter_by_root_cause(stored: Cli, cause: str, raw: bytes) -> None:
    """--root-cause keeps only the failures with that primary root cause."""
    page = stored.json("failures", "list", "--root-cause", cause)
    assert page["total"] == 1
    [item] = page["items"]
    assert item["root_cause"] == cause
    assert item["raw"]["sha256"] == stored_sha(stored, raw)


def stored_sha(cli: Cli, raw: bytes) -> str:
    """The sha256 the store recorded for the failure holding ``raw``."""
    with cli.store() as store:
        [match] = [f for f in store.query_failures(FailureQuery()).items if f.raw.to_bytes() == raw]
    return match.raw.sha256


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("priority", {INVALID_SHIPMENT, STRING_PRIORITY}),
        ("weight_kg", {INVALID_SHIPMENT, HEAVY_SHIPMENT}),
        ("colour", {EXTRA_FIELD}),
        ("destination", set()),
    ],
)
def test_filter_by_field(stored: Cli, path: str, expected: set[bytes]) -> None:
    """--field keeps the failures with an error on exactly that path."""
    page = stored.json("failures", "list", "--field", path)
    with stored.store() as store:
        raws = {store.get_failure(failure_id).raw.to_bytes() for failure_id in ids(page)}  # type: ignore[union-attr]
    assert raws == expected
    assert page["total"] == len(expected)


def test_filter_by_contract_and_version(cli: Cli, two_versions: Path) -> None:
    """--contract and --version select the failures of one contract version."""
    path = cli.jsonl(INVALID_SHIPMENT, HEAVY_SHIPMENT)
    for ref in ("shipment@1", "shipment@2"):
        result = cli.run("ingest", ref, str(path), "--json", contracts=two_versions)
        assert result.exit_code == 0, result.output

    def total(*filters: str) -> int:
        result = cli.run("failures", "list", *filters, "--json", contracts=two_versions)
        assert result.exit_code == 0, result.output
        return json_total(result.stdout)

    assert total() == 4
    assert total("--contract", "shipment") == 4
    assert total("--contract", "shipment", "--version", "2") == 2
    assert total("--version", "1", "--root-cause", "business_rule_violation") == 1
    assert total("--contract", "parcel") == 0


def json_total(stdout: str) -> int:
    """The ``total`` of a JSON page."""
    total = json.loads(stdout)["total"]
    assert isinstance(total, int), total
    return total


def test_paging_covers_every_failure_once(stored: Cli) -> None:
    """Pages of two, newest first, cover all six failures exactly once, each page knowing the total."""
    pages = [stored.json("failures", "list", "--limit", "2", "--offset", str(n)) for n in (0, 2, 4, 6)]
    assert [page["total"] for page in pages] == [6, 6, 6, 6]
    assert [(page["limit"], page["offset"]) for page in pages] == [(2, 0), (2, 2), (2, 4), (2, 6)]
    seen = [failure_id for page in pages for failure_id in ids(page)]
    assert len(seen) == len(set(seen)) == 6
    assert ids(pages[3]) == []
    assert seen == ids(stored.json("failures", "list"))


def test_table_and_footer(stored: Cli) -> None:
    """The table shows id, contract, root cause, the fields and an explanation, with a "showing" footer."""
    result = stored.run("failures", "list", "--limit", "4", "--offset", "1")
    assert result.exit_code == 0
    assert result.stdout.rstrip().endswith("showing 2-5 of 6")
    rows = [line for line in result.stdout.splitlines() if line.startswith("│ fail_")]
    assert len(rows) == 4
    everything = stored.run("failures", "list", "--root-cause", "missing_field").stdout
    assert "priority, shipment_id, weight_kg" in everything
    assert "priority: required, but the field is missing." in everything
    assert everything.rstrip().endswith("showing 1-1 of 1")


def test_footer_past_the_end(stored: Cli) -> None:
    """An offset beyond the last failure says there is nothing to show."""
    result = stored.run("failures", "list", "--offset", "10")
    assert result.stdout.rstrip().endswith("showing none of 6 (offset 10)")


def test_time_window(stored: Cli) -> None:
    """--since is inclusive and --until exclusive; instants without an offset are UTC."""
    assert stored.json("failures", "list", "--since", "2000-01-01")["total"] == 6
    assert stored.json("failures", "list", "--since", "2999-01-01T00:00:00+02:00")["total"] == 0
    assert stored.json("failures", "list", "--until", "2000-01-01T00:00:00Z")["total"] == 0
    assert stored.json("failures", "list", "--until", "2999-01-01")["total"] == 6


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--root-cause", "bogus", "business_rule_violation"),
        ("--since", "yesterday", "not an ISO 8601 date"),
        ("--limit", "0", "--limit"),
    ],
)
def test_bad_filter_exits_2(stored: Cli, option: str, value: str, message: str) -> None:
    """A bad filter value is a usage error (exit 2) that says what is accepted."""
    result = stored.run("failures", "list", option, value)
    assert result.exit_code == 2
    assert message in result.stderr


def test_show_prints_errors_source_and_raw_text(stored: Cli) -> None:
    """``failures show`` prints every error's explanation, the source line and the raw payload text."""
    [failure_id] = ids(stored.json("failures", "list", "--root-cause", "missing_field"))
    result = stored.run("failures", "show", failure_id)
    assert result.exit_code == 0
    out = result.stdout
    assert failure_id in out
    assert 'shipment_id: expected at least 1 character(s), received "" (a string).' in out
    assert "weight_kg: expected a value > 0, received -5 (an integer)." in out
    assert "priority: required, but the field is missing." in out
    assert f"raw payload: {len(INVALID_SHIPMENT)} bytes" in out
    assert INVALID_SHIPMENT.decode() in out.splitlines()
    assert "line    2" in out


def test_show_invalid_utf8_as_base64(stored: Cli) -> None:
    """A payload that is not UTF-8 is shown as base64, and says so; --json decodes to the exact bytes."""
    [failure_id] = ids(stored.json("failures", "list", "--root-cause", "invalid_encoding"))
    out = stored.run("failures", "show", failure_id).stdout
    assert "not valid UTF-8, shown as base64" in out
    assert base64.b64encode(INVALID_UTF8).decode() in out.splitlines()
    record = stored.json("failures", "show", failure_id)
    assert record["raw"]["encoding"] == "base64"
    assert base64.b64decode(record["raw"]["text"]) == INVALID_UTF8


def test_show_json_is_the_whole_record(stored: Cli) -> None:
    """``failures show --json`` is the stored record, field for field."""
    [failure_id] = ids(stored.json("failures", "list", "--root-cause", "type_mismatch"))
    with stored.store() as store:
        record = store.get_failure(failure_id)
    assert record is not None
    assert stored.json("failures", "show", failure_id) == serial.jsonable(record)


def test_show_unknown_id_exits_1(stored: Cli) -> None:
    """An id no failure has is a message on stderr and exit code 1."""
    result = stored.run("failures", "show", "fail_nope")
    assert result.exit_code == 1
    assert "no failure record has the id 'fail_nope'" in result.stderr
    assert result.stdout == ""


def test_untrusted_text_cannot_style_or_control_the_terminal(cli: Cli) -> None:
    """Field names from a payload are shown literally: markup stays text, control characters are escaped."""
    payload = b'{"shipment_id": "S-1", "weight_kg": 3, "destination": "Cork", "\\u001b[2J[bold]x": 1}'
    cli.ingest(cli.jsonl(payload))
    [failure_id] = ids(cli.json("failures", "list"))
    for args in (["failures", "list"], ["failures", "show", failure_id]):
        out = cli.run(*args).stdout
        assert "\x1b" not in out
        assert "\\x1b[2J[bold]x" in out


# -- occurrences ----------------------------------------------------------------------------------------


@pytest.fixture
def flood(cli: Cli) -> str:
    """A store where TRUNCATED arrived three times on three lines of standard input (identified by its
    bytes: one failure record, three arrivals) beside one INVALID_SHIPMENT; the flood's failure id."""
    cli.ingest_stdin(TRUNCATED, INVALID_SHIPMENT, TRUNCATED, TRUNCATED)
    [failure_id] = ids(cli.json("failures", "list", "--root-cause", "malformed_json"))
    return failure_id


def test_list_shows_how_often_each_failure_arrived(cli: Cli, flood: str) -> None:
    """The list counts each failure's arrivals, in the table and in the JSON items."""
    page = cli.json("failures", "list")
    assert {item["failure_id"]: item["occurrences"]["count"] for item in page["items"]}[flood] == 3
    assert sorted(item["occurrences"]["count"] for item in page["items"]) == [1, 3]
    rows = [
        " ".join(line.replace("│", " ").split()) for line in cli.run("failures", "list").stdout.splitlines()
    ]
    assert any(row.startswith(flood) and " malformed_json 3 " in f"{row} " for row in rows)


def test_show_prints_occurrences_and_the_latest_arrivals(cli: Cli, flood: str) -> None:
    """``failures show`` says what the id came from, how often it arrived, and each arrival's metadata."""
    out = cli.run("failures", "show", flood).stdout
    lines = [" ".join(line.replace("│", " ").split()) for line in out.splitlines()]
    assert "identified by raw bytes: every arrival counts" in lines
    assert "arrivals 3" in lines
    assert "latest 3 arrival(s)" in lines
    for line in (1, 3, 4):
        assert f'"line": {line},' in out
    record = cli.json("failures", "show", flood)
    assert record["identified_by"] == "raw"
    assert [arrival["source"]["line"] for arrival in record["occurrences"]["latest"]] == [1, 3, 4]
    assert record["source"]["line"] == 1  # the record is its first arrival, as first written


def test_show_a_failure_seen_once(stored: Cli) -> None:
    """A failure that arrived once shows one arrival and no table of latest arrivals."""
    [failure_id] = ids(stored.json("failures", "list", "--root-cause", "missing_field"))
    lines = [
        " ".join(line.split()) for line in stored.run("failures", "show", failure_id).stdout.splitlines()
    ]
    assert "arrivals 1" in lines
    assert not [line for line in lines if line.startswith("latest ")]


# -- purge ------------------------------------------------------------------------------------------------


def test_purge_needs_a_filter(stored: Cli) -> None:
    """A purge with no filter is refused (exit 2) and says how to select every failure on purpose."""
    for args in (["failures", "purge"], ["failures", "purge", "--yes"]):
        result = stored.run(*args)
        assert result.exit_code == 2
        assert "--older-than 0s" in result.stderr
    assert stored.stats()["failures_total"] == 6


def test_purge_is_a_dry_run_by_default(stored: Cli) -> None:
    """Without --yes a purge counts what it would delete, by root cause, and deletes nothing."""
    summary = stored.json("failures", "purge", "--older-than", "0s", "--field", "priority")
    assert (summary["dry_run"], summary["deleted"]) == (True, 2)
    assert summary["by_root_cause"] == {"missing_field": 1, "type_mismatch": 1}
    assert summary["filters"]["field"] == "priority"
    out = stored.run("failures", "purge", "--older-than", "0s", "--field", "priority").stdout
    assert "dry run: 2 failure record(s) would be deleted; run again with --yes to delete them" in out
    assert stored.stats()["failures_total"] == 6


def test_purge_yes_deletes_prints_and_audits(stored: Cli) -> None:
    """--yes deletes what the dry run counted, says so, and logs an audit line: filters, count and user."""
    result = stored.run("failures", "purge", "--older-than", "0s", "--root-cause", "malformed_json", "--yes")
    assert result.exit_code == 0, result.output
    assert "deleted 1 failure record(s)" in result.stdout
    [audit] = [line for line in result.stderr.splitlines() if "failures_purged" in line]
    assert "deleted=1" in audit
    assert "'root_cause': 'malformed_json'" in audit
    assert "user=" in audit
    assert stored.json("failures", "list", "--root-cause", "malformed_json")["total"] == 0
    assert stored.stats()["failures_total"] == 5


def test_purge_older_than_keeps_recent_failures(stored: Cli) -> None:
    """--older-than selects by the latest arrival: failures that just arrived are not old enough."""
    summary = stored.json("failures", "purge", "--older-than", "1d", "--yes")
    assert (summary["dry_run"], summary["deleted"], summary["by_root_cause"]) == (False, 0, {})
    assert stored.stats()["failures_total"] == 6


@pytest.mark.parametrize("age", ["30", "3x", "-1d", "1.5d", "999999999999w"])
def test_purge_refuses_a_bad_age(stored: Cli, age: str) -> None:
    """An age that is not a whole number and a unit (or absurdly long) is a usage error, exit 2."""
    result = stored.run("failures", "purge", "--older-than", age)
    assert result.exit_code == 2
    assert "--older-than" in result.stderr


def test_purge_of_a_store_that_does_not_exist_creates_nothing(cli: Cli) -> None:
    """Purging where nothing was ever stored is an error (exit 2), and leaves no store behind."""
    result = cli.run("failures", "purge", "--older-than", "1d", "--yes")
    assert result.exit_code == 2
    assert "no store at" in result.stderr
    assert not cli.db.exists()
