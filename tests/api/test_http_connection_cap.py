"""``serve``'s connection cap (``max_connections``): what a client sees beyond it."""

import socket
from collections.abc import Callable
from pathlib import Path

import httpx
import orjson

from serve_support import ServeProcess
from sigma_aetl.cli.serve_cmd import uvicorn_options
from sigma_aetl.http import create_app
from sigma_aetl.settings import Settings
from sigma_aetl.testing import ServerThread, wait_until

SettingsFactory = Callable[..., Settings]
CONTRACTS = Path(__file__).parents[2] / "contracts"


def test_a_request_beyond_the_connection_cap_is_503_problem_details(
    make_settings_for: SettingsFactory,
) -> None:
    """With max_connections open, one more request is answered 503 problem details and closed."""
    settings = make_settings_for(max_connections=2)
    with ServerThread(create_app(settings), **uvicorn_options(settings)) as server:
        with socket.create_connection(("127.0.0.1", server.port)):  # an idle connection holds one place
            response = httpx.get(f"{server.url}/healthz")
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["connection"] == "close"
        assert response.headers["retry-after"] == "1"
        assert orjson.loads(response.content)["status"] == 503
        served = lambda: httpx.get(f"{server.url}/healthz").status_code == 200  # noqa: E731
        wait_until(served, 10, "the idle connection's place to be free again")


def test_serve_passes_the_cap_to_uvicorn(make_settings_for: SettingsFactory) -> None:
    """The setting becomes uvicorn's limit_concurrency; unset, there is no cap."""
    assert uvicorn_options(make_settings_for(max_connections=7))["limit_concurrency"] == 7
    assert uvicorn_options(make_settings_for(max_connections=None))["limit_concurrency"] is None


def test_serve_takes_the_cap_as_an_option(tmp_path: Path) -> None:
    """``serve --max-connections 2`` answers a third connection 503 problem details."""
    serve = ServeProcess(tmp_path, CONTRACTS, "--max-connections", "2")
    with serve, socket.create_connection(("127.0.0.1", serve.port)):
        response = httpx.get(f"{serve.url}/healthz")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
