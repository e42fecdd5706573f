"""``sigma-aetl contracts list|show``: what the contracts directory holds, read without the store."""

from cli_support import CONTRACTS, Cli

from sigma_aetl.contracts.loader import load_registry


def test_list_shows_every_version(cli: Cli) -> None:
    """The table lists each version with backend, identity, rule count, short fingerprint and source file."""
    contract = load_registry(CONTRACTS).require("shipment@1")
    result = cli.run("contracts", "list")
    assert result.exit_code == 0
    [row] = [line for line in result.stdout.splitlines() if "shipment@1" in line]
    cells = [cell.strip() for cell in row.strip("│ ").split("│")]
    short = contract.fingerprint[:19]
    assert cells == ["shipment@1", "pydantic", "shipment_id", "1", short, "shipment/v1.py"]
    assert not cli.db.exists()


def test_list_json(cli: Cli) -> None:
    """``contracts list --json`` is one object per version."""
    contract = load_registry(CONTRACTS).require("shipment@1")
    assert cli.json("contracts", "list") == [
        {
            "ref": "shipment@1",
            "name": "shipment",
            "version": 1,
            "backend": "pydantic",
            "identity": ["shipment_id"],
            "rule_count": 1,
            "fingerprint": contract.fingerprint,
            "source": "shipment/v1.py",
        }
    ]


def test_show_json_has_the_whole_definition(cli: Cli) -> None:
    """``contracts show --json`` carries description, identity, rules, fingerprint and the JSON Schema."""
    contract = load_registry(CONTRACTS).require("shipment@1")
    shown = cli.json("contracts", "show", "shipment@1")
    assert list(shown) == [
        "ref",
        "name",
        "version",
        "backend",
        "description",
        "identity",
        "rules",
        "allow_extra",
        "fingerprint",
        "json_schema",
        "source",
    ]
    assert shown["description"] == "A shipment handed to the carrier."
    assert shown["identity"] == ["shipment_id"]
    assert shown["allow_extra"] is False
    assert shown["fingerprint"] == contract.fingerprint
    assert shown["json_schema"] == contract.json_schema
    [rule] = shown["rules"]
    assert rule["name"] == "max_weight"
    assert rule["expression"] == "weight_kg <= 1000"
    assert rule["message"].startswith("Shipments heavier than 1000 kg")


def test_show_human(cli: Cli) -> None:
    """``contracts show`` prints the description, the rules with their reasons, the fingerprint and schema."""
    contract = load_registry(CONTRACTS).require("shipment@1")
    result = cli.run("contracts", "show", "shipment@1")
    assert result.exit_code == 0
    for text in (
        "A shipment handed to the carrier.",
        "weight_kg <= 1000",
        "need a freight booking",
        contract.fingerprint,
        '"exclusiveMinimum": 0',
    ):
        assert text in result.stdout


def test_show_unknown_version_exits_2(cli: Cli) -> None:
    """Showing a version that does not exist lists the known ones and exits 2."""
    result = cli.run("contracts", "show", "shipment@3")
    assert result.exit_code == 2
    assert "known versions: 1" in result.stderr
