"""Failure classes over HTTP: the list with its filters and order, one class with its samples, masking."""

from collections.abc import Callable

import httpx
import pytest

from sigma_aetl.settings import Settings
from sigma_aetl.stores import Store
from sigma_aetl.stores.keys import issue
from sigma_aetl.testing import HEAVY_SHIPMENT, INVALID_SHIPMENT

INGEST = "/v1/ingest/shipment/1"
SettingsFactory = Callable[..., Settings]


def send_three_kinds(client: httpx.Client) -> None:
    """Five failures of two classes: three invalid shipments (keyed apart), two too heavy."""
    for n in range(3):
        client.post(INGEST, content=INVALID_SHIPMENT, headers={"idempotency-key": f"bad-{n}"})
    for n in range(2):
        body = HEAVY_SHIPMENT.replace(b"SHIP-HEAVY-1", f"SHIP-HEAVY-{n}".encode())
        client.post(INGEST, content=body)


def test_classes_are_listed_with_counts_and_shown_with_their_samples(client: httpx.Client) -> None:
    """GET /v1/failure-classes lists one class per problem, most failures first; GET of one class answers
    it with its sample failure records; a retried event counts nothing."""
    send_three_kinds(client)
    client.post(INGEST, content=INVALID_SHIPMENT, headers={"idempotency-key": "bad-0"})  # a retry
    page = client.get("/v1/failure-classes").json()
    assert page["total"] == 2
    assert [item["count"] for item in page["items"]] == [3, 2]
    first = page["items"][0]
    assert first["contract_ref"] == "shipment@1"
    detail = client.get(f"/v1/failure-classes/{first['class_id']}").json()
    assert detail["class"] == first
    assert [s["failure_id"] for s in detail["samples"]] == first["samples"]
    assert len(detail["samples"]) == 3


def test_filters_and_order_are_query_parameters(client: httpx.Client) -> None:
    """The ClassQuery filters and order are query parameters: root cause, field, order by last seen."""
    send_three_kinds(client)
    every = client.get("/v1/failure-classes").json()["items"]
    by_last = client.get("/v1/failure-classes", params={"order": "last_seen"}).json()["items"]
    assert [c["class_id"] for c in by_last] == [c["class_id"] for c in reversed(every)]
    heavy = every[1]
    cause = client.get("/v1/failure-classes", params={"root_cause": heavy["root_cause"]}).json()
    assert [c["class_id"] for c in cause["items"]] == [heavy["class_id"]]
    path = heavy["errors"][0][0]
    found = client.get("/v1/failure-classes", params={"field": path}).json()["items"]
    assert heavy["class_id"] in [c["class_id"] for c in found]
    none = client.get("/v1/failure-classes", params={"contract": "nothing"}).json()
    assert (none["total"], none["items"], none["next_offset"]) == (0, [], None)


@pytest.mark.parametrize(
    "params",
    [
        {"order": "size"},
        {"limit": "0"},
        {"limit": "1001"},
        {"offset": "-1"},
        {"version": "0"},
        {"since": "x"},
    ],
)
def test_bad_parameters_are_422(client: httpx.Client, params: dict[str, str]) -> None:
    """An out-of-range or malformed parameter is a 422 problem naming it, never a 5xx."""
    answer = client.get("/v1/failure-classes", params=params)
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("class_id", ["cls_" + "0" * 32, "not-a-class", "cls_XYZ", "fail_" + "0" * 32])
def test_an_unknown_or_malformed_class_id_is_404(client: httpx.Client, class_id: str) -> None:
    """An id no class has, or that is not a class id at all, is a 404 problem."""
    answer = client.get(f"/v1/failure-classes/{class_id}")
    assert answer.status_code == 404
    assert answer.json()["status"] == 404


def test_without_read_raw_samples_and_client_labels_are_masked(keyed: tuple[httpx.Client, Store]) -> None:
    """A read key sees a class's samples masked as /v1/failures masks them, and its client producers
    counted together; read:raw sees them whole. Without a read scope the route is 403."""
    client, keys = keyed
    sender = issue(keys, "shop", ["ingest:shipment"]).token
    client.post(INGEST, content=INVALID_SHIPMENT, headers={"authorization": f"Bearer {sender}"})
    reader = {"authorization": f"Bearer {issue(keys, 'analyst', ['read']).token}"}
    [listed] = client.get("/v1/failure-classes", headers=reader).json()["items"]
    assert "client:(masked)" in listed["producers"]
    detail = client.get(f"/v1/failure-classes/{listed['class_id']}", headers=reader).json()
    assert detail["samples"][0]["raw"]["text"] == ""
    assert detail["samples"][0]["masked"]["reveal_with"] == "read:raw"
    auditor = {"authorization": f"Bearer {issue(keys, 'auditor', ['read:raw']).token}"}
    whole = client.get(f"/v1/failure-classes/{listed['class_id']}", headers=auditor).json()
    assert whole["samples"][0]["raw"]["text"] == INVALID_SHIPMENT.decode()
    assert any(label.startswith("client:127.0.0.1") for label in whole["class"]["producers"])
    assert client.get("/v1/failure-classes", headers={"authorization": f"Bearer {sender}"}).status_code == 403


def test_one_class_carries_its_diagnosis_and_advisories(client: httpx.Client) -> None:
    """GET of one class answers its diagnosis (as the /diagnosis route does) and its advisories (none yet)."""
    send_three_kinds(client)
    first = client.get("/v1/failure-classes").json()["items"][0]
    detail = client.get(f"/v1/failure-classes/{first['class_id']}").json()
    assert detail["diagnosis"] == client.get(f"/v1/failure-classes/{first['class_id']}/diagnosis").json()
    assert detail["advisories"] == client.get(f"/v1/failure-classes/{first['class_id']}/advisories").json()
    assert detail["advisories"]["items"] == []
    assert detail["advisories"]["job"] is None


def test_advisories_of_an_unknown_class_are_404(client: httpx.Client) -> None:
    """A class id that no stored failure has answers 404 on its advisories, as on the class itself."""
    response = client.get(f"/v1/failure-classes/cls_{'0' * 32}/advisories")
    assert response.status_code == 404
