"""HTTP: a flood of invalid events raises one alert, listed at /v1/alerts and counted in /metrics."""

from collections.abc import Iterator

import httpx
import pytest

from api.conftest import SettingsFactory
from metrics_support import samples
from sigma_aetl.http import create_app
from sigma_aetl.settings import Settings
from sigma_aetl.stores import open_store
from sigma_aetl.stores.keys import issue
from sigma_aetl.testing import JSON_HEADERS, VALID_SHIPMENT, ServerThread, wait_until


def invalid(n: int) -> bytes:
    """An invalid shipment@1 event, distinct for each ``n`` (a negative weight)."""
    return b'{"shipment_id": "S-%d", "weight_kg": -%d, "destination": "Cork"}' % (n, n + 1)


@pytest.fixture
def settings(make_settings_for: SettingsFactory) -> Settings:
    """A gateway whose guard alerts when at least half of 10 or more events in a minute fail."""
    return make_settings_for(flood_invalid_ratio=0.5, flood_min_events=10)


@pytest.fixture
def client(settings: Settings) -> Iterator[httpx.Client]:
    """A client of that gateway behind a real uvicorn."""
    with (
        ServerThread(create_app(settings)) as running,
        httpx.Client(base_url=running.url, headers=JSON_HEADERS, timeout=30) as http,
    ):
        yield http


def sample(text: str, name: str, labels: dict[str, str]) -> float | None:
    """The value of the sample ``name`` with exactly ``labels`` (None when there is none)."""
    return samples(text, name).get(tuple(sorted(labels.items())))


def alerts(client: httpx.Client, **params: str) -> list[dict[str, object]]:
    """The alerts the gateway lists."""
    answer = client.get("/v1/alerts", params=params)
    assert answer.status_code == 200
    items: list[dict[str, object]] = answer.json()["items"]
    return items


def test_a_flood_of_invalid_events_raises_exactly_one_alert(client: httpx.Client) -> None:
    """Forty invalid events after one valid one raise one invalid_ratio alert: stored, listed, counted."""
    assert client.post("/v1/ingest/shipment/1", content=VALID_SHIPMENT).status_code == 200
    for n in range(40):
        assert client.post("/v1/ingest/shipment/1", content=invalid(n)).json()["status"] == "FAILED"
    wait_until(lambda: bool(alerts(client)), timeout=10, what="the alert to be stored")
    (alert,) = alerts(client)
    assert alert["kind"] == "invalid_ratio"
    assert alert["contract"] == "shipment@1"
    assert alert["source"] == "http"
    assert alert["action"] == "alerted"
    assert alert["partition"] is None
    assert alert["window_events"] == 10
    assert alert["value"] == pytest.approx(0.9)
    text = client.get("/metrics").text
    labels = {"contract": "shipment@1", "kind": "invalid_ratio", "source": "http"}
    assert sample(text, "sigma_aetl_flood_alerts_total", labels) == 1
    assert sample(text, "sigma_aetl_flood_guard_state", {"contract": "shipment@1", "partition": ""}) == 1
    assert sample(text, "sigma_aetl_flood_webhook_failures_total", {}) == 0
    overview = client.get("/ui").text  # the dashboard lists it too
    assert "invalid_ratio" in overview
    assert "No alert in this window." not in overview


def test_valid_traffic_raises_no_alert(client: httpx.Client) -> None:
    """Events that pass raise nothing, and the guard's state is 0 (ok)."""
    for _ in range(20):
        assert client.post("/v1/ingest/shipment/1", content=VALID_SHIPMENT).status_code == 200
    assert alerts(client) == []
    text = client.get("/metrics").text
    assert sample(text, "sigma_aetl_flood_guard_state", {"contract": "shipment@1", "partition": ""}) == 0
    overview = client.get("/ui").text
    assert "No alert in this window." in overview
    assert "invalid_ratio" not in overview


def test_since_and_limit_select_alerts(client: httpx.Client) -> None:
    """``since`` after the alert lists none; ``limit`` bounds the list."""
    for n in range(12):
        client.post("/v1/ingest/shipment/1", content=invalid(n))
    wait_until(lambda: bool(alerts(client)), timeout=10, what="the alert to be stored")
    assert alerts(client, since="2999-01-01T00:00:00Z") == []
    assert len(alerts(client, since="2000-01-01T00:00:00Z", limit="1")) == 1


@pytest.mark.parametrize("params", [{"since": "yesterday"}, {"limit": "0"}, {"limit": "100000"}])
def test_bad_parameters_are_a_422_problem(client: httpx.Client, params: dict[str, str]) -> None:
    """A malformed ``since`` or a ``limit`` out of range is a 422 problem, never a 5xx."""
    answer = client.get("/v1/alerts", params=params)
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"


def test_alerts_need_the_read_scope(make_settings_for: SettingsFactory) -> None:
    """Once keys exist, a read key lists alerts and an ingest-only key is refused with 403."""
    settings = make_settings_for()
    keys = open_store(settings.store_url)
    reader, producer = issue(keys, "reader", ["read"]), issue(keys, "producer", ["ingest:shipment"])
    keys.close()
    with ServerThread(create_app(settings)) as running, httpx.Client(base_url=running.url) as http:
        allowed = http.get("/v1/alerts", headers={"authorization": f"Bearer {reader.token}"})
        refused = http.get("/v1/alerts", headers={"authorization": f"Bearer {producer.token}"})
    assert allowed.status_code == 200
    assert refused.status_code == 403
