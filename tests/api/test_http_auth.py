"""API keys on every route: 401 without a valid key, 403 without the scope, on the fast path and FastAPI."""

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from sigma_aetl.http import create_app
from sigma_aetl.settings import Settings
from sigma_aetl.stores import Store, open_store
from sigma_aetl.stores.keys import issue, now
from sigma_aetl.testing import INVALID_SHIPMENT, JSON_HEADERS, VALID_SHIPMENT, ServerThread

ORDER = b'{"order_id": "O-1"}'
SettingsFactory = Callable[..., Settings]
READS = ["/v1/records", "/v1/failures", "/v1/stats", "/v1/contracts", "/docs", "/openapi.json"]


@pytest.fixture
def keyed_settings(make_settings_for: SettingsFactory) -> Settings:
    """Settings whose key cache is off (every request reads the store), so a test need not wait."""
    return make_settings_for(auth_cache_seconds=0)


@pytest.fixture
def keys(keyed_settings: Settings) -> Iterator[Store]:
    """A handle of its own on the gateway's store, to create and revoke keys beside the server."""
    store = open_store(keyed_settings.store_url)
    yield store
    store.close()


@pytest.fixture(params=[True, False], ids=["fast-path", "fastapi-routes"])
def http(keyed_settings: Settings, keys: Store, request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    """A client of the gateway (with and without the fast path) on the store ``keys`` changes."""
    with (
        ServerThread(create_app(keyed_settings, fast_path=request.param)) as server,
        httpx.Client(base_url=server.url, timeout=30, headers=JSON_HEADERS) as client,
    ):
        yield client


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for ``token``."""
    return {"authorization": f"Bearer {token}"}


def call(http: httpx.Client, method: str, path: str, token: str | None = None) -> httpx.Response:
    """A request with the token as a bearer (none without one); POSTs carry a valid shipment."""
    headers = bearer(token) if token else {}
    body = VALID_SHIPMENT if method == "POST" else None
    return http.request(method, path, content=body, headers=headers)


SCOPES: list[tuple[list[str], set[str]]] = [
    (["ingest:shipment"], {"/v1/ingest/shipment/1"}),
    (["ingest:shipment_compat"], {"/api/validate"}),  # /api/validate's default contract
    (["ingest:order"], {"/v1/ingest/order/1"}),
    (["ingest:*"], {"/api/validate", "/v1/ingest/shipment/1", "/v1/ingest/order/1"}),
    (["read"], set(READS)),
    (["read:raw"], set(READS)),
    (["admin"], {"/api/validate", "/v1/ingest/shipment/1", "/v1/ingest/order/1", *READS}),
]


def test_without_any_key_the_gateway_is_open(http: httpx.Client) -> None:
    """No key exists: every route answers without one, and failures are shown whole."""
    for path in READS:
        assert http.get(path).status_code == 200, path
    assert http.post("/v1/ingest/shipment/1", content=INVALID_SHIPMENT).status_code == 200
    [failure] = http.get("/v1/failures").json()["items"]
    assert failure["raw"]["text"] == INVALID_SHIPMENT.decode()
    assert "masked" not in failure
    assert "key_id" not in failure["source"]


ROUTES = [("POST", "/api/validate"), ("POST", "/v1/ingest/shipment/1"), *(("GET", path) for path in READS)]


def test_once_a_key_exists_a_missing_or_unknown_key_is_401(http: httpx.Client, keys: Store) -> None:
    """Without a key, or with an unknown one, every route answers 401 problem details with a challenge."""
    issue(keys, "someone", ["admin"])
    for method, path in ROUTES:
        for token in (None, "sgk_not-a-key", "x" * 1000):
            response = call(http, method, path, token)
            assert response.status_code == 401, (path, token)
            assert response.headers["content-type"] == "application/problem+json"
            assert response.headers["www-authenticate"].startswith("Bearer")
            assert response.json()["status"] == 401
            assert response.json()["instance"] == path


def test_health_checks_need_no_key(http: httpx.Client, keys: Store) -> None:
    """/healthz and /readyz answer without a key once keys exist."""
    issue(keys, "someone", ["admin"])
    assert http.get("/healthz").status_code == 200
    assert http.get("/readyz").status_code == 200


def test_each_scope_opens_its_routes_and_the_others_are_403(http: httpx.Client, keys: Store) -> None:
    """A key reaches exactly the routes its scopes name; any other answers 403 naming the needed scope."""
    for scopes, allowed in SCOPES:
        check_scopes(http, issue(keys, "producer", scopes).token, allowed)


def check_scopes(http: httpx.Client, token: str, allowed: set[str]) -> None:
    """Each route answers 200 for ``token`` if it is in ``allowed``, else 403 problem details."""
    for method, path in [*ROUTES, ("POST", "/v1/ingest/order/1")]:
        response = call(http, method, path, token)
        if path in allowed:
            assert response.status_code == 200, (path, response.text)
        else:
            assert response.status_code == 403, (path, response.text)
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["required_scope"] in response.json()["detail"]


def test_x_api_key_works_as_the_bearer_does(http: httpx.Client, keys: Store) -> None:
    """The token is accepted as ``X-API-Key`` too."""
    token = issue(keys, "producer", ["read"]).token
    assert http.get("/v1/stats", headers={"x-api-key": token}).status_code == 200
    assert http.get("/v1/stats", headers={"authorization": f"bearer {token}"}).status_code == 200
    assert http.get("/v1/stats", headers={"authorization": f"Basic {token}"}).status_code == 401


def test_a_revoked_key_is_401_at_once_with_no_cache(http: httpx.Client, keys: Store) -> None:
    """Revoked through another handle on the store, a key is refused on the next request."""
    issued = issue(keys, "producer", ["read"])
    assert call(http, "GET", "/v1/stats", issued.token).status_code == 200
    keys.revoke_key(issued.key.key_id, now())
    response = call(http, "GET", "/v1/stats", issued.token)
    assert response.status_code == 401
    assert "unknown or revoked" in response.json()["detail"]


def test_records_and_failures_name_the_key_that_sent_them(http: httpx.Client, keys: Store) -> None:
    """Events sent with two keys are told apart by ``source.key_id`` in GET /v1/records and /v1/failures."""
    first, second = issue(keys, "shop", ["ingest:*"]), issue(keys, "depot", ["ingest:*"])
    reader = issue(keys, "auditor", ["read:raw"]).token
    http.post("/v1/ingest/shipment/1", content=VALID_SHIPMENT, headers=bearer(first.token))
    http.post("/v1/ingest/shipment/1", content=INVALID_SHIPMENT, headers=bearer(second.token))
    [record] = http.get("/v1/records", headers=bearer(reader)).json()["items"]
    [failure] = http.get("/v1/failures", headers=bearer(reader)).json()["items"]
    assert record["source"]["key_id"] == first.key.key_id
    assert failure["source"]["key_id"] == second.key.key_id
    for secret in (first.token, second.token):
        assert secret not in str(record) + str(failure)


def failure_as(http: httpx.Client, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The stored failure as the list and the single view show it to ``token``."""
    [listed] = http.get("/v1/failures", headers=bearer(token)).json()["items"]
    single = http.get(f"/v1/failures/{listed['failure_id']}", headers=bearer(token)).json()
    return listed, single


def test_without_read_raw_failures_are_masked_and_say_so(http: httpx.Client, keys: Store) -> None:
    """A read key sees failures without raw bytes, headers or client, told what is masked and which scope
    shows it; read:raw and admin see them whole."""
    sender = issue(keys, "shop", ["ingest:shipment"]).token
    headers = {**bearer(sender), "user-agent": "shop-client/1", "content-type": "application/json"}
    http.post("/v1/ingest/shipment/1", content=INVALID_SHIPMENT, headers=headers)
    for masked in failure_as(http, issue(keys, "analyst", ["read"]).token):
        assert masked["raw"]["text"] == ""
        assert masked["raw"]["size"] == len(INVALID_SHIPMENT)
        assert masked["source"]["headers"] is None
        assert masked["source"]["client"] is None
        assert masked["occurrences"]["latest"][0]["source"]["headers"] is None
        assert masked["masked"]["reveal_with"] == "read:raw"
        assert "raw.text" in masked["masked"]["fields"]
        assert "shop-client" not in str(masked)
    for scope in ("read:raw", "admin"):
        for whole in failure_as(http, issue(keys, scope, [scope]).token):
            assert whole["raw"]["text"] == INVALID_SHIPMENT.decode()
            assert whole["source"]["headers"]["user-agent"] == "shop-client/1"
            assert "masked" not in whole


def test_the_openapi_document_declares_the_keys_on_every_guarded_route(http: httpx.Client) -> None:
    """Every route but the health checks documents the 401 and 403 answers and the two ways to send a key."""
    document = http.get("/openapi.json").json()
    assert set(document["components"]["securitySchemes"]) == {"bearer", "apiKey"}
    for path, operations in document["paths"].items():
        for operation in operations.values():
            declared = set(operation["responses"])
            if path in ("/healthz", "/readyz"):
                assert not declared & {"401", "403"}, path
                assert "security" not in operation, path
            else:
                assert {"401", "403"} <= declared, path
                assert operation["security"] == [{"bearer": []}, {"apiKey": []}], path
