"""``sigma-aetl ingest`` feeds the flood guard: a file of failures raises one stored alert; a rerun none."""

import json
from pathlib import Path
from typing import Any

from cli_support import Cli
from sigma_aetl.testing import INVALID_SHIPMENT, VALID_SHIPMENT

FLOOD = {"SIGMA_AETL_FLOOD_CONSECUTIVE_FAILURES": "5"}


def ingest_flooded(cli: Cli, path: Path) -> dict[str, Any]:
    """``ingest shipment@1 PATH --json`` with the guard on (five failures in a row): the summary."""
    result = cli.run("ingest", "shipment@1", str(path), "--json", env=FLOOD)
    assert result.exit_code == 0, result.output
    summary: dict[str, Any] = json.loads(result.stdout)
    return summary


def test_a_file_of_failures_raises_one_alert_and_a_rerun_none(cli: Cli) -> None:
    """Twenty invalid lines raise one stored file alert; ingesting the file again (all duplicates) none."""
    path = cli.jsonl(VALID_SHIPMENT, *[INVALID_SHIPMENT] * 20)
    assert ingest_flooded(cli, path)["failed"] == 20
    with cli.store() as store:
        (alert,) = store.list_alerts(None, 10)
    assert (alert.kind, alert.contract, alert.source, alert.value) == (
        "consecutive_failures",
        "shipment@1",
        "file",
        5,
    )
    assert ingest_flooded(cli, path)["failure_duplicates"] == 20
    with cli.store() as store:
        assert len(store.list_alerts(None, 10)) == 1


def test_without_a_threshold_nothing_is_watched(cli: Cli) -> None:
    """With the guard's defaults (off) a flood raises no alert."""
    cli.ingest(cli.jsonl(*[INVALID_SHIPMENT] * 20))
    with cli.store() as store:
        assert store.list_alerts(None, 10) == []
