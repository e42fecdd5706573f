"""Failure analytics over HTTP: failures per bucket and group, traffic, new classes and stale versions,
their defaults and bounds (422), and client labels masked without read:raw."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from contract_support import copy_repository_contracts
from sigma_aetl.contracts.loader import load_registry
from sigma_aetl.contracts.lock import write_lock
from sigma_aetl.http import create_app
from sigma_aetl.settings import Settings
from sigma_aetl.stores import Store
from sigma_aetl.stores.keys import issue
from sigma_aetl.testing import HEAVY_SHIPMENT, INVALID_SHIPMENT, JSON_HEADERS, VALID_SHIPMENT, ServerThread

INGEST = "/v1/ingest/shipment/1"
SettingsFactory = Callable[..., Settings]


def send_mix(client: httpx.Client, headers: dict[str, str] | None = None) -> None:
    """Two accepted shipments, three invalid ones (keyed apart) and one too heavy."""
    client.post(INGEST, content=VALID_SHIPMENT, headers=headers)
    client.post(INGEST, content=VALID_SHIPMENT.replace(b"SHIP-TRUE-003", b"SHIP-TRUE-004"), headers=headers)
    for n in range(3):
        client.post(
            INGEST, content=INVALID_SHIPMENT, headers={"idempotency-key": f"bad-{n}", **(headers or {})}
        )
    client.post(INGEST, content=HEAVY_SHIPMENT, headers=headers)


def test_failures_and_traffic_count_what_was_ingested(client: httpx.Client) -> None:
    """By default the last 24 hours in hours: failures per root cause, and the version's accepted and
    failed events; a retry counts nothing."""
    send_mix(client)
    client.post(INGEST, content=INVALID_SHIPMENT, headers={"idempotency-key": "bad-0"})
    failures = client.get("/v1/analytics/failures").json()
    assert (failures["group_by"], failures["bucket"], failures["total"]) == ("root_cause", "hour", 4)
    assert len(failures["buckets"]) in (24, 25)
    assert sum(s["total"] for s in failures["series"]) == 4
    assert all(sum(s["counts"]) == s["total"] for s in failures["series"])
    traffic = client.get("/v1/analytics/traffic", params={"bucket": "day"}).json()
    [version] = traffic["versions"]
    assert (version["contract"], version["version"]) == ("shipment", 1)
    assert (version["accepted_total"], version["failed_total"], version["acceptance_ratio"]) == (
        2,
        4,
        0.333333,
    )
    classes = client.get("/v1/analytics/new-classes").json()
    assert len(classes["items"]) == 2
    assert sum(item["count"] for item in classes["items"]) == 4


def test_filters_groups_and_explicit_windows(client: httpx.Client) -> None:
    """group_by, limit and the contract filter are parameters; a window in the past holds nothing."""
    send_mix(client)
    by_version = client.get("/v1/analytics/failures", params={"group_by": "version"}).json()
    assert [(s["group"], s["total"]) for s in by_version["series"]] == [("shipment@1", 4)]
    top = client.get("/v1/analytics/failures", params={"group_by": "class", "limit": 1}).json()
    assert [s["group"] for s in top["series"]][1:] == ["other"]
    assert client.get("/v1/analytics/failures", params={"contract": "order"}).json()["series"] == []
    past = {"since": "2020-01-01T00:00:00Z", "until": "2020-01-02T00:00:00Z"}
    answer = client.get("/v1/analytics/traffic", params=past).json()
    assert (len(answer["buckets"]), answer["versions"], answer["producers"]) == (24, [], [])
    assert client.get("/v1/analytics/new-classes", params=past).json()["items"] == []


def test_a_draft_newer_version_makes_nothing_stale(client: httpx.Client) -> None:
    """shipment@2 is a draft in the repository's contracts: traffic to shipment@1 is not stale."""
    send_mix(client)
    answer = client.get("/v1/analytics/stale-versions").json()
    assert answer["versions"] == []


def test_traffic_to_an_older_version_is_stale_once_a_newer_is_released(
    make_settings_for: SettingsFactory, tmp_path: Path
) -> None:
    """With shipment@2 released, a version-1 event in the window makes shipment@1 stale."""
    contracts = copy_repository_contracts(tmp_path / "contracts")
    registry = load_registry(contracts)
    write_lock(registry.lock.releasing([registry.require("shipment@2")]), contracts)
    settings = make_settings_for(contracts_dir=contracts)
    with (
        ServerThread(create_app(settings)) as server,
        httpx.Client(base_url=server.url, timeout=30, headers=JSON_HEADERS) as client,
    ):
        send_mix(client)
        [stale] = client.get("/v1/analytics/stale-versions").json()["versions"]
        until = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
        earlier = client.get("/v1/analytics/stale-versions", params={"until": until}).json()
    assert (stale["contract"], stale["version"], stale["newest_released"], stale["events"]) == (
        "shipment",
        1,
        2,
        6,
    )
    assert earlier["versions"] == []


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/analytics/failures", {"group_by": "country"}),
        ("/v1/analytics/failures", {"bucket": "week"}),
        ("/v1/analytics/failures", {"limit": "0"}),
        ("/v1/analytics/failures", {"limit": "101"}),
        ("/v1/analytics/failures", {"since": "yesterday"}),
        ("/v1/analytics/failures", {"since": "2024-05-02T00:00:00Z", "until": "2024-05-01T00:00:00Z"}),
        (
            "/v1/analytics/failures",
            {"bucket": "minute", "since": "2024-05-01T00:00:00Z", "until": "2024-05-08T00:00:00Z"},
        ),
        ("/v1/analytics/traffic", {"version": "1"}),
        ("/v1/analytics/traffic", {"contract": "shipment", "version": "0"}),
        ("/v1/analytics/failures", {"contract": "shipment", "version": "9223372036854775808"}),
        ("/v1/analytics/traffic", {"until": "0001-01-01T00:00:00Z"}),
        ("/v1/analytics/new-classes", {"until": "0001-01-01T00:00:00Z"}),
        ("/v1/analytics/new-classes", {"limit": "0"}),
        ("/v1/analytics/new-classes", {"since": "2024-05-02T00:00:00Z", "until": "2024-05-01T00:00:00Z"}),
        ("/v1/analytics/stale-versions", {"until": "soon"}),
    ],
)
def test_bad_parameters_are_422(client: httpx.Client, path: str, params: dict[str, str]) -> None:
    """An out-of-range, malformed or inconsistent parameter is a 422 problem naming it, never a 5xx."""
    answer = client.get(path, params=params)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["errors"][0]["loc"][0] == "query"


def test_client_labels_are_masked_without_read_raw(keyed: tuple[httpx.Client, Store]) -> None:
    """A read key sees client producers counted together as client:(masked); read:raw sees the address;
    a key without a read scope is refused."""
    client, keys = keyed
    sender = issue(keys, "shop", ["ingest:shipment"]).token
    send_mix(client, {"authorization": f"Bearer {sender}"})
    reader = {"authorization": f"Bearer {issue(keys, 'analyst', ['read']).token}"}
    auditor = {"authorization": f"Bearer {issue(keys, 'auditor', ['read:raw']).token}"}
    by_producer = {"group_by": "producer"}
    masked = client.get("/v1/analytics/failures", params=by_producer, headers=reader).json()
    assert {s["group"]: s["total"] for s in masked["series"]} == {
        "client:(masked)": 4,
        f"key:{_key_id(keys)}": 4,
    }
    whole = client.get("/v1/analytics/failures", params=by_producer, headers=auditor).json()
    assert "client:127.0.0.1" in {s["group"] for s in whole["series"]}
    traffic = client.get("/v1/analytics/traffic", headers=reader).json()
    assert {p["producer"]: (p["accepted"], p["failed"]) for p in traffic["producers"]}["client:(masked)"] == (
        2,
        4,
    )
    classes = client.get("/v1/analytics/new-classes", headers=reader).json()["items"]
    assert all("client:(masked)" in item["producers"] for item in classes)
    refused = client.get("/v1/analytics/traffic", headers={"authorization": f"Bearer {sender}"})
    assert refused.status_code == 403


def _key_id(keys: Store) -> str:
    [shop] = [key for key in keys.list_keys() if key.name == "shop"]
    return shop.key_id
