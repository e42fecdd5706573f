"""Query parameters over the HTTP API on every store: out of range is 422 problem details, never a 5xx.

In-process (httpx's ASGI transport) over the ``store`` fixture, so both backends answer the same requests;
the real-uvicorn schemathesis run lives with the API tests.
"""

import asyncio
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sigma_aetl.contracts.registry import Registry
from sigma_aetl.http import create_app
from sigma_aetl.http.app import GatewayApp
from sigma_aetl.ingest.gateway import Gateway
from sigma_aetl.ingest.pipeline import Pipeline
from sigma_aetl.settings import Settings
from sigma_aetl.stores import Store

EDGES = [0, -1, 1, 1000, 1001, 2**31, 2**53 + 1, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**64, 10**30]
INTEGERS = st.one_of(st.sampled_from(EDGES), st.integers())
NUMERIC = [("/v1/failures", "offset"), ("/v1/failures", "limit"), ("/v1/failures", "version")]
NUMERIC += [("/v1/records", "limit"), ("/v1/records", "version")]
TEXTS = [("/v1/failures", "since"), ("/v1/failures", "until"), ("/v1/records", "since")]
TEXTS += [("/v1/records", "until"), ("/v1/records", "cursor"), ("/v1/failures", "root_cause")]
RANGES = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def app(store: Store, registry: Registry, tmp_path: Path) -> GatewayApp:
    """The HTTP application over the store under test."""
    config = Settings(store_url=f"sqlite:///{tmp_path}/unused.db", contracts_dir=tmp_path)
    return create_app(config, Gateway(config, registry, store, Pipeline(registry, store, config.limits)))


def _get(app: GatewayApp, path: str, params: dict[str, str]) -> httpx.Response:
    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            return await client.get(path, params=params)

    return asyncio.run(get())


def _assert_answered(response: httpx.Response) -> None:
    assert response.status_code in (200, 422), response.text
    if response.status_code == 422:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == 422


@pytest.mark.parametrize(("path", "name"), NUMERIC)
@RANGES
@given(number=INTEGERS)
def test_every_integer_parameter_is_answered_or_refused(
    app: GatewayApp, path: str, name: str, number: int
) -> None:
    """Any integer in a numeric query parameter is answered 200 or refused 422, never a 5xx."""
    _assert_answered(_get(app, path, {name: str(number)}))


@pytest.mark.parametrize("name", ["offset", "version"])
def test_an_integer_beyond_64_bits_is_422(app: GatewayApp, name: str) -> None:
    """An offset or version beyond a signed 64-bit integer is 422 (an SQLite overflow was a 500)."""
    response = _get(app, "/v1/failures", {name: str(2**63)})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["query", name]


@pytest.mark.parametrize(("path", "name"), TEXTS)
@RANGES
@given(text=st.text(max_size=40))
def test_every_text_parameter_is_answered_or_refused(
    app: GatewayApp, path: str, name: str, text: str
) -> None:
    """Any text in a timestamp, cursor or root-cause parameter is answered 200 or refused 422."""
    _assert_answered(_get(app, path, {name: text}))


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59", "1e300"])
@pytest.mark.parametrize("path", ["/v1/failures", "/v1/records"])
def test_timestamps_at_the_edges_are_answered_or_refused(app: GatewayApp, path: str, moment: str) -> None:
    """Timestamps at the ends of the calendar (and a huge number) are answered 200 or refused 422."""
    for name in ("since", "until"):
        _assert_answered(_get(app, path, {name: moment}))
