"""``contracts lock|verify`` and the refusal to start on an edited release: ingest, serve, exit codes."""

import json
import shutil
from pathlib import Path

import pytest

from cli_support import CONTRACTS, Cli
from sigma_aetl import logs
from sigma_aetl.cli import serve_cmd
from sigma_aetl.contracts.loader import load_registry
from sigma_aetl.contracts.lock import LOCK_FILE
from sigma_aetl.testing import VALID_SHIPMENT


@pytest.fixture
def contracts(tmp_path: Path) -> Path:
    """A private copy of the repository's contracts directory, lock included."""
    return Path(shutil.copytree(CONTRACTS, tmp_path / "contracts"))


def edit_v1(contracts: Path) -> None:
    """Edit released shipment@1 in place: priority may now be up to 5."""
    v1 = contracts / "shipment" / "v1.py"
    v1.write_text(v1.read_text().replace("ge=1, le=3", "ge=1, le=5"))


def test_verify_passes_on_the_repository(cli: Cli) -> None:
    """``contracts verify`` exits 0 on the repository: shipment@1 and shipment_compat@1 released, unchanged;
    shipment@2 a draft."""
    result = cli.run("contracts", "verify")
    assert result.exit_code == 0, result.output
    assert "ok: 2 released version(s) match" in result.stdout
    assert "draft (not released): order@1, shipment@2" in result.stdout
    assert cli.json("contracts", "verify") == {
        "ok": True,
        "lock_file": str(CONTRACTS / LOCK_FILE),
        "released": ["shipment@1", "shipment_compat@1"],
        "drafts": ["order@1", "shipment@2"],
        "violations": [],
    }
    assert not cli.db.exists()


def test_verify_fails_on_an_edited_release(cli: Cli, contracts: Path) -> None:
    """``contracts verify`` exits 1 naming the edited version and what changed, in text and JSON."""
    edit_v1(contracts)
    result = cli.run("contracts", "verify", contracts=contracts)
    assert result.exit_code == 1
    assert "shipment@1 (shipment/v1.py): edited after release" in result.stdout
    assert "changed  field priority: maximum 3 → 5" in result.stdout
    checked = json.loads(cli.run("contracts", "verify", "--json", contracts=contracts).stdout)
    assert checked["ok"] is False
    [violation] = checked["violations"]
    assert (violation["ref"], violation["problem"]) == ("shipment@1", "modified")
    assert [c["text"] for c in violation["changes"]] == ["changed  field priority: maximum 3 → 5"]


def test_ingest_refuses_to_start_on_an_edited_release(cli: Cli, contracts: Path) -> None:
    """``ingest`` prints what changed in the released version and exits 2 without opening the store."""
    edit_v1(contracts)
    result = cli.run("ingest", "shipment@2", str(cli.jsonl(VALID_SHIPMENT)), contracts=contracts)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {contracts / LOCK_FILE}: 1 released contract version(s)")
    assert "maximum 3 → 5" in result.stderr
    assert "Traceback" not in result.output
    assert not cli.db.exists()


def test_serve_refuses_to_start_on_a_deleted_release(
    cli: Cli, contracts: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``serve`` refuses to listen when a released version's file was deleted, and exits 2."""
    (contracts / "shipment" / "v1.py").unlink()
    monkeypatch.setattr(serve_cmd, "run_server", lambda *args, **kwargs: pytest.fail("serve must not listen"))
    # keep logging off the runner's stdout
    monkeypatch.setattr(logs, "configure", lambda level, log_format="console": None)
    result = cli.run("serve", "--port", "0", contracts=contracts)
    assert result.exit_code == 2
    assert "shipment@1 (shipment/v1.py): released, but no contract file defines it any more" in result.stderr


def test_list_marks_an_edited_release_as_modified(cli: Cli, contracts: Path) -> None:
    """``contracts list`` still works on an edited release and marks it ``modified``."""
    edit_v1(contracts)
    listed = json.loads(cli.run("contracts", "list", "--json", contracts=contracts).stdout)
    assert [(row["ref"], row["state"]) for row in listed] == [
        ("order@1", "draft"),
        ("shipment@1", "modified"),
        ("shipment@2", "draft"),
        ("shipment_compat@1", "released"),
    ]


def test_lock_releases_a_draft(cli: Cli, contracts: Path) -> None:
    """``contracts lock shipment@2`` writes it to the lock; it is then listed and verified as released."""
    result = cli.run("contracts", "lock", "shipment@2", "--json", contracts=contracts)
    assert result.exit_code == 0, result.output
    v2 = load_registry(contracts).require("shipment@2")
    assert json.loads(result.stdout) == {
        "lock_file": str(contracts / LOCK_FILE),
        "released": [{"ref": "shipment@2", "fingerprint": v2.fingerprint, "source": "shipment/v2.json"}],
        "already_released": [],
    }
    registry = load_registry(contracts)
    assert [registry.state(c).value for c in registry.all()] == ["draft", "released", "released", "released"]
    assert cli.run("contracts", "verify", contracts=contracts).exit_code == 0


def test_lock_is_idempotent_and_deterministic(cli: Cli, contracts: Path) -> None:
    """Locking an already released version writes nothing; locking anew gives the same bytes every time."""
    before = (contracts / LOCK_FILE).read_bytes()
    result = cli.run("contracts", "lock", "shipment@1", contracts=contracts)
    assert result.exit_code == 0
    assert "already released: shipment@1" in result.stdout
    assert (contracts / LOCK_FILE).read_bytes() == before
    (contracts / LOCK_FILE).unlink()
    assert cli.run("contracts", "lock", "--all", contracts=contracts).exit_code == 0
    once = (contracts / LOCK_FILE).read_bytes()
    (contracts / LOCK_FILE).unlink()
    refs = ("shipment@2", "shipment_compat@1", "order@1", "shipment@1")
    assert cli.run("contracts", "lock", *refs, contracts=contracts).exit_code == 0
    assert (contracts / LOCK_FILE).read_bytes() == once


def test_lock_writes_nothing_while_a_release_is_edited(cli: Cli, contracts: Path) -> None:
    """``contracts lock`` refuses (exit 1) while a released version no longer matches, and writes nothing."""
    edit_v1(contracts)
    before = (contracts / LOCK_FILE).read_bytes()
    result = cli.run("contracts", "lock", "shipment@2", contracts=contracts)
    assert result.exit_code == 1
    assert "shipment@1 (shipment/v1.py): edited after release" in result.stdout
    assert (contracts / LOCK_FILE).read_bytes() == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "name the versions to release"),
        (["shipment@9"], "known versions: 1, 2"),
        (["shipment"], "NAME@VERSION"),
    ],
)
def test_lock_usage_errors_exit_2(cli: Cli, contracts: Path, args: list[str], message: str) -> None:
    """Locking nothing, an unknown version or a malformed ref exits 2 and leaves the lock alone."""
    before = (contracts / LOCK_FILE).read_bytes()
    result = cli.run("contracts", "lock", *args, contracts=contracts)
    assert result.exit_code == 2
    assert message in result.stderr
    assert (contracts / LOCK_FILE).read_bytes() == before
