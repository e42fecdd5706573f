"""``sigma-aetl failures classes``: the stored failures as one row per problem, filtered and ordered."""

import sqlite3

from cli_support import Cli
from sigma_aetl.testing import HEAVY_SHIPMENT, INVALID_SHIPMENT, STRING_PRIORITY, VALID_SHIPMENT


def ingest_four_failures(cli: Cli) -> None:
    """One valid event and four failures of three classes: two missing fields, one too heavy, one of the
    wrong type."""
    lines = (VALID_SHIPMENT, INVALID_SHIPMENT, INVALID_SHIPMENT, HEAVY_SHIPMENT, STRING_PRIORITY)
    summary = cli.ingest(cli.jsonl(*lines), "shipment@1")
    assert (summary["accepted"], summary["failed"]) == (1, 4)


def test_classes_json_counts_each_problem_once(cli: Cli) -> None:
    """--json lists three classes, most failures first, each with its count and file producer; ingesting
    the same file again changes no count."""
    ingest_four_failures(cli)
    page = cli.json("failures", "classes")
    assert page["total"] == 3
    assert [item["count"] for item in page["items"]] == [2, 1, 1]
    top = page["items"][0]
    assert top["root_cause"] == "missing_field"
    assert list(top["producers"].values()) == [2]
    assert next(iter(top["producers"])).startswith("file:")
    again = cli.ingest(cli.jsonl(INVALID_SHIPMENT, name="again.jsonl"), "shipment@1")
    assert again["failed"] == 1
    assert cli.json("failures", "classes", "--root-cause", "missing_field")["items"][0]["count"] == 3


def test_classes_table_shows_a_row_per_class(cli: Cli) -> None:
    """The table shows each class's id, contract, root cause, signature, count and top producer."""
    ingest_four_failures(cli)
    page = cli.json("failures", "classes")
    result = cli.run("failures", "classes")
    assert result.exit_code == 0, result.output
    for item in page["items"]:
        assert item["class_id"] in result.stdout
    assert "business_rule_violation" in result.stdout
    assert "showing 1-3 of 3 classes" in result.stdout
    assert "(2)" in result.stdout  # the top producer's count


def test_filters_order_and_limit(cli: Cli) -> None:
    """--root-cause, --contract, --order last_seen and --limit pick and order classes; a bad --order is a
    usage error."""
    ingest_four_failures(cli)
    assert cli.json("failures", "classes", "--root-cause", "type_mismatch")["total"] == 1
    assert cli.json("failures", "classes", "--contract", "nothing")["total"] == 0
    limited = cli.json("failures", "classes", "--limit", "1")
    assert (len(limited["items"]), limited["next_offset"]) == (1, 1)
    by_last = cli.json("failures", "classes", "--order", "last_seen")
    assert by_last["total"] == 3
    bad = cli.run("failures", "classes", "--order", "size")
    assert bad.exit_code == 2


def test_a_store_made_before_classes_says_what_to_run(cli: Cli) -> None:
    """On a store that predates classes and was never opened for writing since, the command fails with
    an operational error saying how to build them."""
    ingest_four_failures(cli)
    with sqlite3.connect(cli.db) as conn:
        conn.execute("PRAGMA user_version = 0")
    conn.close()
    result = cli.run("failures", "classes")
    assert result.exit_code == 2  # operational: the command could not run
    assert "open it once for writing" in " ".join(result.output.split())
