"""``serve``'s uvicorn options on a real server: whose address an event records as its client."""

from collections.abc import Callable

import httpx
import pytest

from sigma_aetl.cli.serve_cmd import uvicorn_options
from sigma_aetl.http import create_app
from sigma_aetl.settings import Settings
from sigma_aetl.testing import INVALID_SHIPMENT, JSON_HEADERS, ServerThread

SettingsFactory = Callable[..., Settings]

FORWARDED = {"X-Forwarded-For": "203.0.113.7"}


def _recorded_source(make_settings_for: SettingsFactory, **overrides: object) -> dict[str, object]:
    settings = make_settings_for(**overrides)
    options = uvicorn_options(settings)
    proxy = {key: options[key] for key in ("proxy_headers", "forwarded_allow_ips", "access_log")}
    with (
        ServerThread(create_app(settings), **proxy) as server,
        httpx.Client(base_url=server.url, headers=JSON_HEADERS) as c,
    ):
        outcome = c.post("/v1/ingest/shipment/1", content=INVALID_SHIPMENT, headers=FORWARDED).json()
        source: dict[str, object] = c.get(f"/v1/failures/{outcome['failure_id']}").json()["source"]
        return source


def test_forwarded_for_is_not_trusted_by_default(make_settings_for: SettingsFactory) -> None:
    """Unconfigured, the client is the peer itself; the X-Forwarded-For header is still recorded."""
    source = _recorded_source(make_settings_for)
    assert str(source["client"]).startswith("127.0.0.1:")
    headers = source["headers"]
    assert isinstance(headers, dict)
    assert headers["x-forwarded-for"] == "203.0.113.7"


@pytest.mark.parametrize("trusted", ["127.0.0.1", "*"])
def test_a_trusted_proxy_names_the_client(make_settings_for: SettingsFactory, trusted: str) -> None:
    """With the proxy's address in SIGMA_AETL_FORWARDED_ALLOW_IPS, the forwarded client is recorded."""
    source = _recorded_source(make_settings_for, forwarded_allow_ips=trusted)
    assert str(source["client"]).startswith("203.0.113.7")
