"""``GET /v1/records``: accepted records in stream order, filtered, paged with cursors a consumer resumes."""

from typing import Any

import httpx
import orjson
import pytest

from sigma_aetl.testing import INVALID_SHIPMENT


def shipment(key: str, weight: float = 2.5) -> bytes:
    """A valid shipment@1 event for shipment ``key``."""
    return orjson.dumps({"shipment_id": key, "weight_kg": weight, "destination": "Cork", "priority": 1})


def ingest(client: httpx.Client, *keys: str) -> list[str]:
    """Ingest one valid shipment@1 event per key, one request each; their record ids, in order."""
    ids = []
    for key in keys:
        outcome = client.post("/v1/ingest/shipment/1", content=shipment(key)).json()
        assert outcome["status"] == "PASSED", outcome
        ids.append(outcome["record_id"])
    return ids


def records(client: httpx.Client, **params: Any) -> dict[str, Any]:
    """``GET /v1/records`` with ``params``; the page, after checking it answered 200 with JSON."""
    response = client.get("/v1/records", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    page: dict[str, Any] = response.json()
    return page


def test_records_come_in_the_order_stored_with_a_cursor_per_page(client: httpx.Client) -> None:
    """Pages of a contract's records come in the order they were stored; next_cursor leads to the next page
    and is null on the last one."""
    ids = ingest(client, "A", "B", "C", "D", "E")
    client.post("/v1/ingest/shipment/1", content=INVALID_SHIPMENT)  # a failure is not a record
    first = records(client, contract="shipment", limit=2)
    assert [r["record_id"] for r in first["items"]] == ids[:2]
    assert first["limit"] == 2
    assert first["next_cursor"] == first["resume_cursor"]
    second = records(client, contract="shipment", limit=2, cursor=first["next_cursor"])
    third = records(client, contract="shipment", limit=2, cursor=second["next_cursor"])
    assert [r["record_id"] for r in second["items"] + third["items"]] == ids[2:]
    assert third["next_cursor"] is None


def test_a_consumer_resumes_with_what_was_stored_since(client: httpx.Client) -> None:
    """A consumer that stored resume_cursor at the end gets exactly the records ingested since, later."""
    ingest(client, "A", "B")
    end = records(client, contract="shipment", version=1)
    assert end["next_cursor"] is None
    later = ingest(client, "C", "D")
    ingest(client, "A")  # a duplicate writes nothing, so it is not streamed again
    resumed = records(client, contract="shipment", version=1, cursor=end["resume_cursor"])
    assert [r["record_id"] for r in resumed["items"]] == later
    again = records(client, contract="shipment", version=1, cursor=resumed["resume_cursor"])
    assert (again["items"], again["resume_cursor"]) == ([], resumed["resume_cursor"])


def test_items_are_the_records_get_by_id_returns(client: httpx.Client) -> None:
    """Each item is the same JSON object GET /v1/records/{id} answers."""
    [record_id] = ingest(client, "A")
    [item] = records(client)["items"]
    assert item == client.get(f"/v1/records/{record_id}").json()
    assert item["data"] == orjson.loads(shipment("A"))


def test_time_filters(client: httpx.Client) -> None:
    """since is inclusive and until exclusive, on received_at."""
    [record_id] = ingest(client, "A")
    received = records(client)["items"][0]["received_at"]
    assert [r["record_id"] for r in records(client, since=received)["items"]] == [record_id]
    assert records(client, until=received)["items"] == []


def problem_of(response: httpx.Response, status: int) -> dict[str, Any]:
    """The problem details of ``response``, after checking its status and media type."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


@pytest.mark.parametrize("cursor", ["", "garbage", "eyJ2IjoyfQ", "%%%"])
def test_a_malformed_cursor_is_a_422_problem(client: httpx.Client, cursor: str) -> None:
    """A cursor the API did not issue is a 422 problem naming the cursor parameter, never a 500."""
    body = problem_of(client.get("/v1/records", params={"cursor": cursor}), 422)
    assert "not one this API issued" in body["detail"]
    assert body["errors"][0]["loc"] == ["query", "cursor"]
    assert body["errors"][0]["type"] == "invalid_cursor"


def test_a_cursor_for_other_filters_is_a_422_problem(client: httpx.Client) -> None:
    """Reusing a cursor with other filters is a 422 problem that says what it was issued for."""
    ingest(client, "A", "B")
    issued = records(client, contract="shipment", limit=1)["next_cursor"]
    body = problem_of(client.get("/v1/records", params={"contract": "parcel", "cursor": issued}), 422)
    assert "issued for contract='shipment'" in body["detail"]
    assert "contract='parcel'" in body["detail"]


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 1001},
        {"limit": "many"},
        {"version": "one"},
        {"version": 0},
        {"version": 2**63},
        {"since": "yesterday"},
        {"cursor": "x" * 1025},
    ],
)
def test_invalid_parameters_are_422_problems(client: httpx.Client, params: dict[str, Any]) -> None:
    """An out-of-range limit or version, a bad instant or an over-long cursor is a 422 problem."""
    body = problem_of(client.get("/v1/records", params=params), 422)
    assert body["errors"][0]["loc"][:2] == ["query", next(iter(params))]


def test_the_records_listing_is_in_the_openapi_document(client: httpx.Client) -> None:
    """GET /v1/records is documented with its parameters and its page shape."""
    document = client.get("/openapi.json").json()
    operation = document["paths"]["/v1/records"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {
        "contract",
        "version",
        "since",
        "until",
        "limit",
        "cursor",
    }
    page = document["components"]["schemas"]["RecordPage"]
    assert set(page["properties"]) == {"items", "limit", "next_cursor", "resume_cursor"}
