"""Side-by-side versions over HTTP: states and fingerprints listed, each event judged by its version."""

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from sigma_aetl.contracts.loader import load_registry
from sigma_aetl.contracts.summary import ContractDetail, summaries
from sigma_aetl.errors import ContractLockError
from sigma_aetl.http import create_app
from sigma_aetl.settings import Settings

CONTRACTS = Path(__file__).parents[2] / "contracts"

V1_EVENT = b'{"shipment_id": "S-1", "weight_kg": 12.5, "destination": "Cork", "priority": 1}'
V2_EVENT = b'{"shipment_id": "S-1", "weight_kg": 1200, "destination": "Cork", "service_level": "economy"}'


def test_contracts_list_versions_with_state_and_fingerprint(client: httpx.Client) -> None:
    """GET /v1/contracts lists order@1 and shipment@2 (drafts), shipment@1 and shipment_compat@1
    (released), fingerprinted."""
    registry = load_registry(CONTRACTS)
    listing = client.get("/v1/contracts").json()
    assert [(c["ref"], c["state"], c["backend"], c["fingerprint"]) for c in listing] == [
        ("order@1", "draft", "pydantic", registry.require("order@1").fingerprint),
        ("shipment@1", "released", "pydantic", registry.require("shipment@1").fingerprint),
        ("shipment@2", "draft", "jsonschema", registry.require("shipment@2").fingerprint),
        ("shipment_compat@1", "released", "pydantic", registry.require("shipment_compat@1").fingerprint),
    ]
    detail = client.get("/v1/contracts/shipment/2").json()
    assert (detail["state"], detail["source"]) == ("draft", "shipment/v2.json")
    assert detail["json_schema"]["properties"]["service_level"]["enum"] == ["express", "standard", "economy"]
    assert [(rule["name"], rule["expression"]) for rule in detail["rules"]] == [
        ("max_weight", "weight_kg <= 1500")
    ]
    assert client.get("/v1/contracts/shipment/1").json()["state"] == "released"


def test_each_event_is_judged_by_the_version_in_its_url(client: httpx.Client) -> None:
    """An event sent to /1 is checked against shipment@1 only, one sent to /2 against shipment@2 only."""
    v1_to_v1 = client.post("/v1/ingest/shipment/1", content=V1_EVENT).json()
    v1_to_v2 = client.post("/v1/ingest/shipment/2", content=V1_EVENT).json()
    v2_to_v2 = client.post("/v1/ingest/shipment/2", content=V2_EVENT).json()
    v2_to_v1 = client.post("/v1/ingest/shipment/1", content=V2_EVENT).json()
    assert [(o["status"], o["contract_ref"]) for o in (v1_to_v1, v1_to_v2, v2_to_v2, v2_to_v1)] == [
        ("PASSED", "shipment@1"),
        ("FAILED", "shipment@2"),
        ("PASSED", "shipment@2"),
        ("FAILED", "shipment@1"),
    ]
    assert {(e["path"], e["root_cause"]) for e in v1_to_v2["errors"]} == {
        ("service_level", "missing_field"),
        ("priority", "unexpected_field"),
    }
    assert {(e["path"], e["root_cause"]) for e in v2_to_v1["errors"]} == {
        ("priority", "missing_field"),
        ("service_level", "unexpected_field"),
        ("weight_kg", "business_rule_violation"),
    }
    registry = load_registry(CONTRACTS)
    record = client.get(f"/v1/records/{v2_to_v2['record_id']}").json()
    assert (record["version"], record["fingerprint"]) == (2, registry.require("shipment@2").fingerprint)
    failure = client.get(f"/v1/failures/{v1_to_v2['failure_id']}").json()
    assert (failure["version"], failure["fingerprint"]) == (2, registry.require("shipment@2").fingerprint)
    assert client.get("/v1/stats").json()["accepted_by_contract"] == {"shipment@1": 1, "shipment@2": 1}


def test_a_batch_to_v2_is_validated_against_v2(client: httpx.Client) -> None:
    """An NDJSON batch posted to /2 is judged event by event against shipment@2."""
    body = V2_EVENT.replace(b"S-1", b"S-7") + b"\n" + V1_EVENT.replace(b"S-1", b"S-8") + b"\n"
    answer = client.post(
        "/v1/ingest/shipment/2", content=body, headers={"content-type": "application/x-ndjson"}
    ).json()
    assert [o["status"] for o in answer["results"]] == ["PASSED", "FAILED"]
    assert answer["results"][1]["root_cause"] == "missing_field"


def test_the_app_refuses_to_start_on_an_edited_release(
    tmp_path: Path, make_settings_for: Callable[..., Settings]
) -> None:
    """create_app (what serve runs) refuses an edited released version, naming it and what changed."""
    contracts = Path(shutil.copytree(CONTRACTS, tmp_path / "contracts"))
    v1 = contracts / "shipment" / "v1.py"
    v1.write_text(v1.read_text().replace("value=1000", "value=2000"))
    with pytest.raises(ContractLockError) as caught:
        create_app(make_settings_for(contracts_dir=contracts))
    assert "shipment@1 (shipment/v1.py): edited after release" in str(caught.value)
    assert "changed  rule max_weight: weight_kg <= 1000 → weight_kg <= 2000" in str(caught.value)
    assert not (tmp_path / "gateway.db").exists()


def test_openapi_documents_the_state(client: httpx.Client) -> None:
    """The OpenAPI schema of a contract summary documents its state."""
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert "state" in schemas["ContractSummary"]["properties"]
    assert json.dumps(schemas["ReleaseState"]["enum"]) == '["draft", "released", "modified"]'


def test_the_cli_and_the_api_show_a_contract_in_one_shape(client: httpx.Client, settings: Settings) -> None:
    """``contracts list|show --json`` and ``GET /v1/contracts[/...]`` print the same objects."""
    registry = load_registry(settings.contracts_dir)
    listed = [summary.model_dump(mode="json") for summary in summaries(registry)]
    assert client.get("/v1/contracts").json() == listed
    shipment = registry.require("shipment@2")
    detail = ContractDetail.of(shipment, registry.state(shipment)).model_dump(mode="json")
    assert client.get("/v1/contracts/shipment/2").json() == detail
