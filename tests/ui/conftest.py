"""Fixtures: the gateway with its dashboard behind a real uvicorn, on a store seeded with three classes."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import httpx
import pytest

from sigma_aetl.http import create_app
from sigma_aetl.ingest.gateway import Gateway
from sigma_aetl.settings import Settings
from sigma_aetl.stores import Store, open_store
from sigma_aetl.stores.keys import issue
from sigma_aetl.testing import ServerThread
from ui_support import Keyed, NoAnalyticsStore, alert, seed

CONTRACTS = Path(__file__).parents[2] / "contracts"


def ui_settings(tmp_path: Path) -> Settings:
    """Settings for one test: its own SQLite file, the repository's contracts, keys read at once."""
    return Settings(
        store_url=f"sqlite:///{tmp_path}/gateway.db", contracts_dir=CONTRACTS, auth_cache_seconds=0
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """This test's settings."""
    return ui_settings(tmp_path)


@pytest.fixture
def dashboard(settings: Settings) -> Iterator[httpx.Client]:
    """A client of a seeded, open gateway (no key exists)."""
    with (
        ServerThread(create_app(settings)) as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        seed(client)
        yield client


@pytest.fixture
def with_analytics(settings: Settings) -> Iterator[httpx.Client]:
    """A client of a seeded, open gateway whose store holds one flood-guard alert raised just now: the
    overview's analytics are the store's own roll-ups of the seeded events."""
    with (
        ServerThread(create_app(settings)) as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        seed(client)
        store = open_store(settings.store_url)
        try:
            store.save_alert(alert().model_copy(update={"raised_at": datetime.now(UTC)}))
        finally:
            store.close()
        yield client


@pytest.fixture
def without_analytics(settings: Settings) -> Iterator[httpx.Client]:
    """A client of a seeded, open gateway whose store answers no analytics (``ui_support``)."""
    gateway = Gateway.open(settings)
    gateway.store = cast(Store, NoAnalyticsStore(gateway.store))
    with (
        ServerThread(create_app(settings, gateway)) as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        seed(client)
        yield client
    gateway.close()


@pytest.fixture
def keyed(settings: Settings) -> Iterator[Keyed]:
    """A client of a seeded gateway with keys, and a function issuing a key with given scopes (its token)."""
    keys: Store = open_store(settings.store_url)
    with (
        ServerThread(create_app(settings)) as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        sender = issue(keys, "shop", ["ingest:shipment"]).token
        seed(client, {"authorization": f"Bearer {sender}"})
        yield client, lambda scopes: issue(keys, "-".join(scopes), scopes).token
    keys.close()
