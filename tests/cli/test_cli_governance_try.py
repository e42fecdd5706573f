"""``contracts try``: a candidate version replayed over stored events, counted, and nothing written."""

import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from cli_support import Cli
from sigma_aetl.core.records import RawPayload
from sigma_aetl.stores.sqlite.store import SqliteStore
from sigma_aetl.testing import EXTRA_FIELD, HEAVY_SHIPMENT, INVALID_SHIPMENT, TRUNCATED, VALID_SHIPMENT
from store_support import failure

V2_SHAPED = b'{"shipment_id": "S-2", "weight_kg": 3, "destination": "Cork", "service_level": "express"}'


def dump(db: Path) -> dict[str, list[Any]]:
    """Every row of every table of the SQLite store, in a stable order."""
    with sqlite3.connect(db) as conn:
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {table: sorted(conn.execute(f"SELECT * FROM {table}").fetchall()) for table in sorted(tables)}


@pytest.fixture
def stored(cli: Cli) -> Cli:
    """A store with shipment@1 events: one accepted, five failed (one of them v2-shaped)."""
    events = cli.jsonl(VALID_SHIPMENT, INVALID_SHIPMENT, HEAVY_SHIPMENT, EXTRA_FIELD, TRUNCATED, V2_SHAPED)
    summary = cli.ingest(events)
    assert (summary["accepted"], summary["failed"]) == (1, 5)
    return cli


def test_try_reports_and_writes_nothing(stored: Cli) -> None:
    """``contracts try shipment@2`` replays shipment@1's stored events and counts them; nothing changes."""
    before = dump(stored.db)
    report = stored.json("contracts", "try", "shipment@2", "--against", "shipment@1", code=1)
    assert dump(stored.db) == before
    assert (report["candidate"], report["against"], report["payloads"]) == ("shipment@2", "shipment@1", 6)
    assert (report["would_pass"], report["would_fail"], report["skipped_truncated"]) == (1, 5, 0)
    assert report["by_origin"] == {
        "accepted": {"total": 1, "would_pass": 0, "would_fail": 1},
        "failed": {"total": 5, "would_pass": 1, "would_fail": 4},
    }
    assert report["by_root_cause"] == {"missing_field": 4, "malformed_json": 1}
    assert report["by_field"]["service_level"] == {"missing_field": 4}
    assert report["by_field"]["priority"] == {"unexpected_field": 3}
    assert report["by_field"]["colour"] == {"unexpected_field": 1}
    assert sum(len(ids) for ids in report["samples"].values()) == 4


def test_try_defaults_to_the_previous_version(stored: Cli) -> None:
    """Without --against, the candidate is tried on the version just below it; the table says so."""
    before = dump(stored.db)
    result = stored.run("contracts", "try", "shipment@2", "--batch-size", "1")
    assert result.exit_code == 1
    assert dump(stored.db) == before
    for text in (
        "dry run: nothing was written",
        "stored events of shipment@1",
        "service_level",
        "missing_field",
    ):
        assert text in result.stdout


def test_try_exits_0_when_everything_would_pass(cli: Cli) -> None:
    """Replaying valid shipment@1 events against shipment@1 passes them all: exit 0."""
    cli.ingest(cli.jsonl(VALID_SHIPMENT, VALID_SHIPMENT.replace(b"TRUE-003", b"TRUE-004")))
    report = cli.json("contracts", "try", "shipment@1", "--against", "shipment@1")
    assert (report["payloads"], report["would_pass"], report["would_fail"]) == (2, 2, 0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["shipment@1"], "shipment@1 has no earlier version"),
        (["shipment@2", "--against", "shipment@one"], "a stored version is a number"),
        (["shipment@7"], "known versions: 1, 2"),
    ],
)
def test_try_operational_errors_exit_2(cli: Cli, args: list[str], message: str) -> None:
    """A candidate with nothing to replay, or a bad reference, exits 2 with a message, opening no store."""
    result = cli.run("contracts", "try", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert not cli.db.exists()


def test_try_over_no_stored_event_exits_2(cli: Cli) -> None:
    """A store holding no event of the version to replay leaves nothing to try: exit 2, saying so."""
    cli.ingest(cli.jsonl(V2_SHAPED), "shipment@2")
    result = cli.run("contracts", "try", "shipment@2")
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert "nothing to try shipment@2 against: the store holds no events of shipment@1" in message
    assert "sigma-aetl ingest shipment@1 FILE" in message
    assert result.stdout == ""


def test_try_over_only_truncated_events_exits_2(cli: Cli) -> None:
    """Events stored only in part cannot be judged again: when there are no others, that is exit 2."""
    cut = replace(failure("K"), raw=RawPayload.of(b'{"ship', size=20_000_000, truncated=True))
    store = SqliteStore(cli.db, writer="inline")
    try:
        store.write([], [cut])
    finally:
        store.close()
    result = cli.run("contracts", "try", "shipment@2")
    assert result.exit_code == 2
    assert "all 1 stored events of shipment@1 were stored truncated" in " ".join(result.stderr.split())
