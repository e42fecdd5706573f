"""``sigma-aetl stats``: counts of what is stored, identical to the Stats object the HTTP API returns."""

from cli_support import Cli
from sigma_aetl.stores.sqlite.store import SqliteStore
from sigma_aetl.testing import HEAVY_SHIPMENT, INVALID_SHIPMENT, VALID_SHIPMENT


def test_json_is_exactly_the_store_stats(cli: Cli) -> None:
    """``stats --json`` is ``Stats.model_dump(mode="json")``, key for key."""
    cli.ingest(cli.jsonl(VALID_SHIPMENT, INVALID_SHIPMENT, HEAVY_SHIPMENT))
    with cli.store() as store:
        expected = store.stats().model_dump(mode="json")
    assert cli.stats() == expected
    assert expected == {
        "accepted_total": 1,
        "failures_total": 2,
        "accepted_by_contract": {"shipment@1": 1},
        "failures_by_contract": {"shipment@1": 2},
        "failures_by_root_cause": {"business_rule_violation": 1, "missing_field": 1},
        "failure_occurrences_total": 2,
        "failure_occurrences_by_contract": {"shipment@1": 2},
        "failure_occurrences_by_root_cause": {"business_rule_violation": 1, "missing_field": 1},
    }


def test_human_tables(cli: Cli) -> None:
    """Without --json the counts are tables: totals, by contract and by root cause."""
    cli.ingest(cli.jsonl(VALID_SHIPMENT, HEAVY_SHIPMENT))
    result = cli.run("stats")
    assert result.exit_code == 0
    lines = [" ".join(line.replace("│", " ").split()) for line in result.stdout.splitlines()]
    assert "accepted records 1" in lines
    assert "failure records 1" in lines
    assert "failure arrivals 1" in lines
    assert "business_rule_violation 1 1" in lines
    assert "shipment@1 1" in lines  # accepted
    assert "shipment@1 1 1" in lines  # failure records and arrivals


def test_human_tables_count_arrivals_beside_records(cli: Cli) -> None:
    """Failures arriving more than once are counted as records and, beside them, as arrivals."""
    cli.ingest_stdin(HEAVY_SHIPMENT, HEAVY_SHIPMENT, INVALID_SHIPMENT)  # stdin: identified by their bytes
    lines = [" ".join(line.replace("│", " ").split()) for line in cli.run("stats").stdout.splitlines()]
    assert "failure records 2" in lines
    assert "failure arrivals 3" in lines
    assert "business_rule_violation 1 2" in lines
    assert "shipment@1 2 3" in lines


def test_empty_store(cli: Cli) -> None:
    """A store that holds nothing yet has zero of everything."""
    SqliteStore(cli.db, writer="inline").close()
    assert cli.stats()["accepted_total"] == 0
    assert "none" in cli.run("stats").stdout
