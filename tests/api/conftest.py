"""Fixtures: a real uvicorn serving the gateway on a temporary SQLite store."""

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from sigma_aetl.http import create_app
from sigma_aetl.settings import Settings
from sigma_aetl.stores import Store, open_store
from sigma_aetl.testing import JSON_HEADERS, ServerThread

CONTRACTS = Path(__file__).parents[2] / "contracts"


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    """Settings for one test: its own SQLite file, the repository's example contracts."""
    values: dict[str, object] = {
        "store_url": f"sqlite:///{tmp_path}/gateway.db",
        "contracts_dir": CONTRACTS,
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


SettingsFactory = Callable[..., Settings]


@pytest.fixture
def make_settings_for(tmp_path: Path) -> SettingsFactory:
    """Build settings for this test with some values overridden."""
    return lambda **overrides: make_settings(tmp_path, **overrides)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Default test settings."""
    return make_settings(tmp_path)


@pytest.fixture(params=[True, False], ids=["fast-path", "fastapi-routes"])
def server(settings: Settings, request: pytest.FixtureRequest) -> Iterator[ServerThread]:
    """The gateway behind a real uvicorn on a free loopback port, with and without the ASGI fast path."""
    with ServerThread(create_app(settings, fast_path=request.param)) as running:
        yield running


@pytest.fixture
def client(server: ServerThread) -> Iterator[httpx.Client]:
    """An HTTP client bound to the running server, sending JSON unless a request says otherwise."""
    with httpx.Client(base_url=server.url, timeout=30, headers=JSON_HEADERS) as http:
        yield http


@pytest.fixture
def keyed(make_settings_for: SettingsFactory) -> Iterator[tuple[httpx.Client, Store]]:
    """A gateway with API keys, and a handle on its store to issue them."""
    settings = make_settings_for(auth_cache_seconds=0)
    keys = open_store(settings.store_url)
    with (
        ServerThread(create_app(settings)) as server,
        httpx.Client(base_url=server.url, timeout=30, headers=JSON_HEADERS) as client,
    ):
        yield client, keys
    keys.close()
