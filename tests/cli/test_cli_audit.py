"""``sigma-aetl audit``: exit 0 when every stored decision is reproduced, 1 with the ids when one is not."""

import json
import shutil
from pathlib import Path

from cli_support import CONTRACTS, Cli
from sigma_aetl.stores.base import FailureQuery, RecordQuery
from sigma_aetl.testing import HEAVY_SHIPMENT, INVALID_SHIPMENT, VALID_SHIPMENT

OTHER = b'{"shipment_id": "SHIP-2", "weight_kg": 2, "destination": "Cork", "priority": 3}'


def stored(cli: Cli) -> None:
    """Ingest two accepted shipment@1 events and two failures into the test's store."""
    summary = cli.ingest(cli.jsonl(VALID_SHIPMENT, OTHER, INVALID_SHIPMENT, HEAVY_SHIPMENT))
    assert (summary["accepted"], summary["failed"]) == (2, 2)


def edited(tmp_path: Path) -> Path:
    """A scratch copy of the contracts whose shipment@1 allows priority 4 (another fingerprint)."""
    copy = shutil.copytree(CONTRACTS, tmp_path / "edited")
    v1 = copy / "shipment" / "v1.py"
    v1.write_text(v1.read_text().replace("ge=1, le=3", "ge=1, le=4"))
    return copy


def test_a_store_audited_with_its_own_contracts_is_identical(cli: Cli) -> None:
    """Audited with the contracts that judged it, the store's four decisions are identical: exit 0."""
    stored(cli)
    report = cli.json("audit")
    assert (report["checked"], report["identical"], report["drifted"]) == (4, 4, 0)
    assert report["findings"] == []
    result = cli.run("audit")
    assert result.exit_code == 0, result.output
    assert "every decision reproduced" in result.stdout


def test_an_edited_definition_exits_1_with_every_id(cli: Cli, tmp_path: Path) -> None:
    """Audited with an edited shipment@1, every decision names an unknown fingerprint: exit 1, ids shown."""
    stored(cli)
    with cli.store() as store:
        ids = {record.record_id for record in store.query_records(RecordQuery()).items}
        ids |= {failure.failure_id for failure in store.query_failures(FailureQuery()).items}
    result = cli.run("audit", "--json", contracts=edited(tmp_path))
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["unknown_fingerprint"] == 4
    assert {finding["id"] for finding in report["findings"]} == ids
    table = cli.run("audit", contracts=edited(tmp_path / "again"))
    assert table.exit_code == 1
    assert all(found in table.stdout for found in ids)
    assert "unknown_fingerprint" in table.stdout


def test_a_smaller_limit_drifts_and_exits_1(cli: Cli) -> None:
    """With a smaller event limit than the one that judged them, the events over it drift: exit 1."""
    stored(cli)
    result = cli.run("audit", "--json", env={"SIGMA_AETL_MAX_EVENT_BYTES": "85"})
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["limits"]["max_event_bytes"] == 85
    assert report["drifted"] >= 1
    assert all(finding["verdict"] == "drifted" for finding in report["findings"])
    assert any("now FAILED (payload_too_large" in line for f in report["findings"] for line in f["differs"])


def test_the_contract_scope_is_honoured(cli: Cli, tmp_path: Path) -> None:
    """Scoped to another contract, the audit checks nothing of shipment's and exits 0."""
    stored(cli)
    report = cli.json("audit", "--contract", "order")
    assert report["checked"] == 0
    scoped = cli.run("audit", "--contract", "shipment", "--version", "2", contracts=edited(tmp_path))
    assert scoped.exit_code == 0, scoped.output


def test_a_bad_instant_is_a_usage_error(cli: Cli) -> None:
    """A --since that is not an ISO 8601 instant is refused with exit 2 before anything is read."""
    result = cli.run("audit", "--since", "yesterday")
    assert result.exit_code == 2
    assert "ISO 8601" in result.output
