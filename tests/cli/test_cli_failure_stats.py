"""``sigma-aetl failures stats``: stored failures over time per group, as a table with bars or as JSON."""

import json
import subprocess
from pathlib import Path

import pytest

from cli_support import CONTRACTS, SCRIPT, Cli, clean_environ
from sigma_aetl.cli.failure_stats_cmd import bar, sparkline
from sigma_aetl.testing import HEAVY_SHIPMENT, INVALID_SHIPMENT, STRING_PRIORITY, VALID_SHIPMENT

LINES = (VALID_SHIPMENT, INVALID_SHIPMENT, INVALID_SHIPMENT, HEAVY_SHIPMENT, STRING_PRIORITY)
"""One valid event and four failures: two missing fields, one too heavy, one of the wrong type."""


@pytest.fixture
def ingested(cli: Cli) -> Cli:
    """The command line over a store holding :data:`LINES`."""
    summary = cli.ingest(cli.jsonl(*LINES), "shipment@1")
    assert (summary["accepted"], summary["failed"]) == (1, 4)
    return cli


def test_json_counts_failures_per_root_cause_once(ingested: Cli) -> None:
    """--json answers the last 24 hours by hour, one series per root cause, largest first; ingesting the
    same file again counts nothing more."""
    answer = ingested.json("failures", "stats", "--by", "root_cause")
    assert (answer["group_by"], answer["bucket"], answer["total"]) == ("root_cause", "hour", 4)
    assert [(s["group"], s["total"]) for s in answer["series"]] == [
        ("missing_field", 2),
        ("business_rule_violation", 1),
        ("type_mismatch", 1),
    ]
    assert ingested.ingest(ingested.jsonl(*LINES), "shipment@1")["duplicates"] == 5
    assert ingested.json("failures", "stats")["total"] == 4


def test_every_group_and_window_option(ingested: Cli) -> None:
    """--by version, producer and class; --since as an age with --bucket day; a past window is empty."""
    assert [s["group"] for s in ingested.json("failures", "stats", "--by", "version")["series"]] == [
        "shipment@1"
    ]
    [producer] = ingested.json("failures", "stats", "--by", "producer")["series"]
    assert producer["group"].startswith("file:")
    by_class = ingested.json("failures", "stats", "--by", "class", "--limit", "2")
    assert [s["group"] for s in by_class["series"]][2:] == ["other"]
    week = ingested.json("failures", "stats", "--since", "7d", "--bucket", "day")
    assert (len(week["buckets"]), week["total"]) == (8, 4)
    past = ingested.json("failures", "stats", "--since", "2020-01-01", "--until", "2020-01-02T00:00:00Z")
    assert (len(past["buckets"]), past["series"], past["total"]) == (24, [], 0)
    assert ingested.json("failures", "stats", "--contract", "order")["series"] == []


def test_the_table_has_a_row_a_bar_and_a_sparkline_per_group(ingested: Cli) -> None:
    """The table shows each group with its count, a bar as wide as the largest group's for the largest,
    and a sparkline; the footer says how many failures over how many buckets."""
    result = ingested.run("failures", "stats", "--by", "root_cause", "--since", "30m", "--bucket", "minute")
    assert result.exit_code == 0, result.output
    for group in ("missing_field", "business_rule_violation", "type_mismatch"):
        assert group in result.stdout
    assert "█" * 30 in result.stdout
    assert "█" * 15 in result.stdout.split("business_rule_violation")[1]
    assert "4 failures from" in result.stdout
    assert "buckets of a minute" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("--by", "country"),
        ("--bucket", "week"),
        ("--since", "yesterday"),
        ("--since", "1h", "--until", "2h"),
        ("--since", "30d", "--bucket", "minute"),
        ("--version", "2"),
        ("--limit", "0"),
    ],
)
def test_bad_options_are_usage_errors(ingested: Cli, args: tuple[str, ...]) -> None:
    """A group, bucket or instant that does not parse, or a window that cannot be answered, exits 2."""
    result = ingested.run("failures", "stats", *args)
    assert result.exit_code == 2, result.output


def test_bars_and_sparklines_scale_to_the_largest() -> None:
    """A bar fills its width for the largest count and shows one cell for any count above zero; a
    sparkline goes from a space for none to a full block for the largest."""
    assert (bar(10, 10), bar(1, 1000), bar(0, 10)) == ("█" * 30, "█", "")
    assert sparkline([0, 1, 7, 14]) == " ▁▅█"
    assert sparkline([0, 0]) == "  "
    assert len(sparkline(list(range(100)))) == 48


def test_the_console_script_prints_the_answer(tmp_path: Path) -> None:
    """The installed ``sigma-aetl`` script runs ``failures stats --json`` as a real process."""
    events = tmp_path / "events.jsonl"
    events.write_bytes(b"".join(line + b"\n" for line in LINES))
    common = [str(SCRIPT), "--store", f"sqlite:///{tmp_path}/t.db", "--contracts", str(CONTRACTS)]
    for args in (["ingest", "shipment@1", str(events)], ["failures", "stats", "--by", "field", "--json"]):
        done = subprocess.run(
            [*common, *args], capture_output=True, text=True, env=clean_environ(), timeout=60, check=False
        )
        assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["group_by"] == "field"
    assert answer["total"] >= 4
