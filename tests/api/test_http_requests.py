"""Request-level behaviour: problem details, limits, routing failures, queries, health."""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx

from sigma_aetl.contracts.registry import Registry
from sigma_aetl.http import create_app
from sigma_aetl.settings import Settings
from sigma_aetl.testing import INVALID_SHIPMENT, JSON_HEADERS, VALID_SHIPMENT, ServerThread

SettingsFactory = Callable[..., Settings]


def test_unknown_route_is_problem_details(client: httpx.Client) -> None:
    """An unknown route answers 404 as application/problem+json."""
    response = client.get("/v2/nothing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404
    assert "/v2/nothing" in response.json()["detail"]


def test_wrong_method_is_problem_details(client: httpx.Client) -> None:
    """A wrong method answers 405 as problem details."""
    response = client.get("/v1/ingest/shipment/1")
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"


def test_unknown_version_and_contract_are_stored_failures(client: httpx.Client) -> None:
    """Events addressed to an unknown version or contract become failures; nothing is guessed."""
    version = client.post("/v1/ingest/shipment/7", content=VALID_SHIPMENT).json()
    name = client.post("/v1/ingest/parcel/1", content=VALID_SHIPMENT).json()
    textual = client.post("/v1/ingest/shipment/v1", content=VALID_SHIPMENT).json()
    assert (version["root_cause"], name["root_cause"], textual["root_cause"]) == (
        "unknown_version",
        "unknown_contract",
        "unknown_version",
    )
    failure = client.get(f"/v1/failures/{version['failure_id']}").json()
    assert failure["contract_ref"] == "shipment@7"
    assert failure["fingerprint"] is None
    assert failure["raw"]["text"].encode() == VALID_SHIPMENT
    assert client.get("/v1/stats").json()["accepted_total"] == 0


def test_body_over_the_limit_is_413_and_a_truncated_failure(make_settings_for: SettingsFactory) -> None:
    """A body over the hard limit answers 413 problem details and leaves a failure with its first bytes."""
    settings = make_settings_for(max_request_bytes=200_000)
    body = b'{"shipment_id": "' + b"x" * 300_000 + b'"}'
    with (
        ServerThread(create_app(settings)) as server,
        httpx.Client(base_url=server.url, headers=JSON_HEADERS) as client,
    ):
        response = client.post("/v1/ingest/shipment/1", content=body)
        assert response.status_code == 413
        assert response.headers["content-type"] == "application/problem+json"
        failure = client.get(f"/v1/failures/{response.json()['failure_id']}").json()
        again = client.post("/v1/ingest/shipment/1", content=body)
        assert again.json()["failure_id"] == response.json()["failure_id"]
    assert failure["root_cause"] == "payload_too_large"
    assert failure["raw"]["truncated"] is True
    assert failure["raw"]["size"] >= 200_001
    assert body.startswith(failure["raw"]["text"].encode())


def test_event_over_the_event_limit_is_a_decision(make_settings_for: SettingsFactory) -> None:
    """An event over the per-event limit (within the request limit) is a stored payload_too_large failure."""
    settings = make_settings_for(max_event_bytes=100)
    body = b'{"shipment_id": "' + b"y" * 200 + b'"}'
    with (
        ServerThread(create_app(settings)) as server,
        httpx.Client(base_url=server.url, headers=JSON_HEADERS) as client,
    ):
        outcome = client.post("/v1/ingest/shipment/1", content=body).json()
        failure = client.get(f"/v1/failures/{outcome['failure_id']}").json()
    assert outcome["root_cause"] == "payload_too_large"
    assert failure["raw"]["text"].encode() == body
    assert failure["raw"]["truncated"] is False


def test_deeply_nested_body_is_a_failure(client: httpx.Client) -> None:
    """A deeply nested body is a nesting_too_deep failure; the server keeps serving."""
    body = b'{"shipment_id": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    outcome = client.post("/v1/ingest/shipment/1", content=body).json()
    assert outcome["root_cause"] == "nesting_too_deep"
    assert client.get("/healthz").json() == {"status": "ok"}


def test_failures_query_filters_and_pages(client: httpx.Client) -> None:
    """GET /v1/failures filters by root cause and field and pages with a total."""
    for n in range(5):
        payload = INVALID_SHIPMENT.replace(b'""', f'"S-{n}"'.encode()) if n else INVALID_SHIPMENT
        client.post("/v1/ingest/shipment/1", content=payload)
    client.post("/v1/ingest/shipment/1", content=b'{"shipment_id": "S", "weight_kg": 1, "destination": "D"}')
    page = client.get("/v1/failures", params={"root_cause": "missing_field", "limit": 2}).json()
    assert (page["total"], len(page["items"]), page["limit"], page["offset"]) == (6, 2, 2, 0)
    by_field = client.get("/v1/failures", params={"field": "weight_kg"}).json()
    assert by_field["total"] == 5
    by_version = client.get("/v1/failures", params={"contract": "shipment", "version": 1, "offset": 4}).json()
    assert (by_version["total"], len(by_version["items"])) == (6, 2)
    bad = client.get("/v1/failures", params={"root_cause": "bogus"})
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"


def test_missing_records_are_404(client: httpx.Client) -> None:
    """Unknown record and failure ids answer 404 problem details."""
    assert client.get("/v1/records/rec_nope").status_code == 404
    assert client.get("/v1/failures/fail_nope").status_code == 404


def test_contracts_endpoints(client: httpx.Client) -> None:
    """The contracts endpoints list versions with fingerprints and serve each JSON Schema."""
    listing = client.get("/v1/contracts").json()
    assert [c["ref"] for c in listing] == ["order@1", "shipment@1", "shipment@2", "shipment_compat@1"]
    detail = client.get("/v1/contracts/shipment/1").json()
    assert detail["fingerprint"] == listing[1]["fingerprint"]
    assert detail["json_schema"]["properties"]["priority"]["maximum"] == 3
    assert detail["json_schema"]["additionalProperties"] is False
    assert client.get("/v1/contracts/shipment/9").status_code == 404


def test_health_readiness_and_docs(client: httpx.Client, registry: Registry) -> None:
    """Liveness, readiness (naming the registry serving) and the OpenAPI docs are served."""
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = {"status": "ready", "contracts": 4, "registry": registry.digest}
    assert client.get("/readyz").json() == ready
    assert client.get("/docs").status_code == 200
    assert "/v1/ingest/{contract}/{version}" in client.get("/openapi.json").json()["paths"]


def test_concurrent_identical_events_store_one_record(client: httpx.Client) -> None:
    """Many concurrent sends of one event store exactly one record."""
    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(
            pool.map(lambda _: client.post("/v1/ingest/shipment/1", content=VALID_SHIPMENT).json(), range(64))
        )
    assert sum(not o["duplicate"] for o in outcomes) == 1
    assert client.get("/v1/stats").json()["accepted_total"] == 1
