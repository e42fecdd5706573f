"""``contracts diff|check|new-version``: evolving a contract by new versions, from the command line."""

import json
import shutil
from pathlib import Path

import pytest

from cli_support import CONTRACTS, Cli


@pytest.fixture
def contracts(tmp_path: Path) -> Path:
    """A private copy of the repository's contracts directory."""
    return Path(shutil.copytree(CONTRACTS, tmp_path / "contracts"))


def test_diff_shows_fields_and_rules(cli: Cli) -> None:
    """``contracts diff shipment@1 shipment@2`` lists the removed, added and changed fields and rules."""
    result = cli.run("contracts", "diff", "shipment@1", "shipment@2")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "shipment@1 (pydantic, released) → shipment@2 (jsonschema, draft): 7 change(s)"
    for text in (
        "  removed  field priority: required integer, >= 1, <= 3",
        '  added    field service_level: required string, one of "express", "standard", "economy"',
        "  added    field reference: optional string, at least 1 character(s), at most 64 character(s)",
        "  changed  rule max_weight: weight_kg <= 1000 → weight_kg <= 1500",
    ):
        assert text in lines


def test_diff_json(cli: Cli) -> None:
    """``contracts diff --json`` gives both fingerprints and each change with its parts and text."""
    shown = cli.json("contracts", "diff", "shipment@1", "shipment@2")
    assert (shown["old"], shown["new"], shown["identical"]) == ("shipment@1", "shipment@2", False)
    added = [c for c in shown["changes"] if c["action"] == "added"]
    assert [(c["area"], c["subject"]) for c in added] == [("field", "service_level"), ("field", "reference")]
    assert cli.json("contracts", "diff", "shipment@2", "shipment@2")["changes"] == []


def test_check_backward_lists_each_breaking_change_and_exits_1(cli: Cli) -> None:
    """``contracts check`` (backward by default) explains each breaking change in one line and exits 1."""
    result = cli.run("contracts", "check", "shipment@1", "shipment@2")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "shipment@1 → shipment@2, backward (every event valid under shipment@1 must stay valid under "
        "shipment@2):",
        "INCOMPATIBLE: 2 breaking change(s)",
        "  [backward] removed_field_closed_model: priority: defined by shipment@1 but not by shipment@2, "
        "which rejects unknown fields; shipment@1 events carrying it fail.",
        "  [backward] new_required_field: service_level: required by shipment@2 but not defined by "
        "shipment@1; shipment@1 events lack it.",
    ]


@pytest.mark.parametrize(("mode", "count"), [("backward", 2), ("forward", 4), ("full", 6), ("FULL", 6)])
def test_check_modes(cli: Cli, mode: str, count: int) -> None:
    """Each mode checks its direction(s); ``--json`` carries the verdict and every problem."""
    verdict = cli.json("contracts", "check", "shipment@1", "shipment@2", "--mode", mode, code=1)
    assert (verdict["mode"], verdict["compatible"], len(verdict["problems"])) == (mode.lower(), False, count)
    assert {p["direction"] for p in verdict["problems"]} <= {"backward", "forward"}


def test_check_of_a_version_with_itself_is_compatible(cli: Cli) -> None:
    """A version is fully compatible with itself: exit 0."""
    result = cli.run("contracts", "check", "shipment@2", "shipment@2", "--mode", "full")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == "compatible"


def test_check_refuses_an_unknown_mode(cli: Cli) -> None:
    """An unknown mode is a usage error (exit 2)."""
    assert cli.run("contracts", "check", "shipment@1", "shipment@2", "--mode", "sideways").exit_code == 2


def test_new_version_scaffolds_a_draft(cli: Cli, contracts: Path) -> None:
    """``contracts new-version shipment`` writes shipment/v3.json from v2: a draft identical in meaning."""
    created = json.loads(
        cli.run("contracts", "new-version", "shipment", "--json", contracts=contracts).stdout
    )
    assert created == {
        "ref": "shipment@3",
        "state": "draft",
        "source": "shipment/v3.json",
        "path": str(contracts / "shipment" / "v3.json"),
        "from": "shipment@2",
        "from_state": "draft",
    }
    listed = json.loads(cli.run("contracts", "list", "--json", contracts=contracts).stdout)
    assert ("shipment@3", "draft") in [(row["ref"], row["state"]) for row in listed]
    full = cli.run("contracts", "check", "shipment@2", "shipment@3", "--mode", "full", contracts=contracts)
    assert full.exit_code == 0
    assert cli.run("contracts", "verify", contracts=contracts).exit_code == 0


def test_new_version_says_what_to_do_next(cli: Cli, contracts: Path) -> None:
    """The human output names the file, warns that its origin is a draft, and gives the next commands."""
    result = cli.run("contracts", "new-version", "shipment", contracts=contracts)
    assert result.exit_code == 0
    assert (
        f"created {contracts / 'shipment' / 'v3.json'}: shipment@3 (draft), from shipment@2" in result.stdout
    )
    assert "note: shipment@2 is itself still a draft" in result.stdout
    assert "contracts lock shipment@3" in result.stdout


def test_new_version_of_an_unknown_contract_exits_2(cli: Cli, contracts: Path) -> None:
    """Scaffolding a contract that does not exist exits 2 and writes nothing."""
    result = cli.run("contracts", "new-version", "parcel", contracts=contracts)
    assert result.exit_code == 2
    assert "no contract is named 'parcel'" in result.stderr
    assert not (contracts / "parcel").exists()
