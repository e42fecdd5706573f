"""``sigma-aetl contracts list|show``: what the contracts directory holds, read without the store."""

from cli_support import CONTRACTS, Cli
from sigma_aetl.contracts.loader import load_registry
from sigma_aetl.contracts.summary import ContractDetail, summaries


def row_cells(output: str, ref: str) -> list[str]:
    """The cells of the table row that names ``ref``."""
    [row] = [line for line in output.splitlines() if f"{ref} " in line]
    return [cell.strip() for cell in row.strip("│ ").split("│")]


def test_list_shows_every_version(cli: Cli) -> None:
    """The table lists each version with state, backend, identity, rule count, short fingerprint and file."""
    registry = load_registry(CONTRACTS)
    v1, v2 = registry.require("shipment@1"), registry.require("shipment@2")
    result = cli.run("contracts", "list")
    assert result.exit_code == 0
    assert row_cells(result.stdout, "shipment@1") == [
        "shipment@1",
        "released",
        "pydantic",
        "shipment_id",
        "1",
        v1.fingerprint[:19],
        "shipment/v1.py",
    ]
    assert row_cells(result.stdout, "shipment@2") == [
        "shipment@2",
        "draft",
        "jsonschema",
        "shipment_id",
        "1",
        v2.fingerprint[:19],
        "shipment/v2.json",
    ]
    assert not cli.db.exists()


def test_list_json(cli: Cli) -> None:
    """``contracts list --json`` is one object per version, with its release state."""
    registry = load_registry(CONTRACTS)
    listed = [row for row in cli.json("contracts", "list") if row["name"] == "shipment"]
    first = {key: listed[0][key] for key in ("ref", "name", "version", "state", "backend", "identity")}
    assert first == {
        "ref": "shipment@1",
        "name": "shipment",
        "version": 1,
        "state": "released",
        "backend": "pydantic",
        "identity": ["shipment_id"],
    }
    assert [rule["expression"] for rule in listed[0]["rules"]] == ["weight_kg <= 1000"]
    assert listed[0]["fingerprint"] == registry.require("shipment@1").fingerprint
    assert listed[0]["source"] == "shipment/v1.py"
    assert [(row["ref"], row["state"], row["backend"]) for row in listed] == [
        ("shipment@1", "released", "pydantic"),
        ("shipment@2", "draft", "jsonschema"),
    ]
    assert listed[1]["fingerprint"] == registry.require("shipment@2").fingerprint


def test_show_json_has_the_whole_definition(cli: Cli) -> None:
    """``contracts show --json`` carries description, identity, rules, fingerprint and the JSON Schema."""
    contract = load_registry(CONTRACTS).require("shipment@1")
    shown = cli.json("contracts", "show", "shipment@1")
    assert set(shown) == {
        "ref",
        "name",
        "version",
        "state",
        "backend",
        "description",
        "identity",
        "rules",
        "allow_extra",
        "fingerprint",
        "json_schema",
        "source",
    }
    assert shown["state"] == "released"
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
    """``contracts show`` prints the state, description, rules with their reasons, fingerprint and schema."""
    contract = load_registry(CONTRACTS).require("shipment@1")
    result = cli.run("contracts", "show", "shipment@1")
    assert result.exit_code == 0
    for text in (
        "released",
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
    assert "known versions: 1, 2" in result.stderr


def test_show_json_schema_contract(cli: Cli) -> None:
    """``contracts show`` of the JSON Schema contract shipment@2 marks it a draft and shows its schema."""
    shown = cli.json("contracts", "show", "shipment@2")
    assert (shown["state"], shown["backend"], shown["source"]) == ("draft", "jsonschema", "shipment/v2.json")
    assert shown["json_schema"]["required"] == ["shipment_id", "weight_kg", "destination", "service_level"]
    assert [rule["expression"] for rule in shown["rules"]] == ["weight_kg <= 1500"]


V1_EVENT = b'{"shipment_id": "S-1", "weight_kg": 12.5, "destination": "Cork", "priority": 1}'
V2_EVENT = b'{"shipment_id": "S-1", "weight_kg": 12.5, "destination": "Cork", "service_level": "standard"}'


def test_each_command_line_event_is_judged_by_the_version_it_names(cli: Cli) -> None:
    """``validate`` and ``ingest`` check against exactly the version named: v1 events fail v2 and back."""
    v1_file, v2_file = cli.jsonl(V1_EVENT, name="v1.jsonl"), cli.jsonl(V2_EVENT, name="v2.jsonl")
    assert cli.run("validate", "shipment@1", str(v1_file)).exit_code == 0
    assert cli.run("validate", "shipment@2", str(v2_file)).exit_code == 0
    decision = cli.json("validate", "shipment@2", str(v1_file), code=1)
    assert (decision["version"], decision["root_cause"]) == (2, "missing_field")
    assert {e["path"] for e in decision["errors"]} == {"service_level", "priority"}
    assert (cli.ingest(v1_file, "shipment@1")["accepted"], cli.ingest(v2_file, "shipment@1")["failed"]) == (
        1,
        1,
    )
    assert (cli.ingest(v2_file, "shipment@2")["accepted"], cli.ingest(v1_file, "shipment@2")["failed"]) == (
        1,
        1,
    )
    stats = cli.stats()
    assert stats["accepted_by_contract"] == {"shipment@1": 1, "shipment@2": 1}
    assert stats["failures_by_contract"] == {"shipment@1": 1, "shipment@2": 1}


def test_list_and_show_print_the_api_shape(cli: Cli) -> None:
    """``contracts list|show --json`` print the objects ``GET /v1/contracts[/...]`` answers."""
    registry = load_registry(CONTRACTS)
    assert cli.json("contracts", "list") == [s.model_dump(mode="json") for s in summaries(registry)]
    shipment = registry.require("shipment@1")
    shown = ContractDetail.of(shipment, registry.state(shipment)).model_dump(mode="json")
    assert cli.json("contracts", "show", "shipment@1") == shown
