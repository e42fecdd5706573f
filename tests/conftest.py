"""Shared fixtures: the repository's contracts, shipment@1, a temporary SQLite store, a fixed clock.

Fixtures that load contracts are session-scoped so Hypothesis tests can use them (a contract is immutable).

Helpers that tests import by bare name (``from kafka_support import Kafka``) live beside this file, at the
root of tests/, never in a subfolder: pytest puts this folder on ``sys.path``, and mypy can then name every
conftest.py apart (see ``[tool.mypy]`` in pyproject.toml).

The suite runs in two processes (pytest-xdist, ``-n 2`` in pyproject.toml's addopts; pass ``-n 0`` for one).
Tests that share something outside their own temporary directory stay in one process, one after another,
by the groups of :data:`SERIAL_GROUPS` (:class:`SerialGroupScheduling`).
"""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from xdist.scheduler import LoadScopeScheduling  # type: ignore[import-untyped]

from sigma_aetl.contracts.loader import load_registry
from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core.contract import Contract
from sigma_aetl.core.envelope import Envelope
from sigma_aetl.ingest.pipeline import Pipeline
from sigma_aetl.stores.sqlite.store import SqliteStore

CONTRACTS_DIR = Path(__file__).parent.parent / "contracts"
SERIAL_GROUPS = {
    "orchestration/": "n8n",  # one n8n install under ~/.cache/sigma-aetl, made by whichever test is first
    "deploy/test_image.py": "podman",  # the local base image, and containers the compose check looks for
    "deploy/test_compose.py": "podman",
}
"""Test paths (under tests/) whose tests run in one process, one group at a time."""
FIXED_NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)

EnvelopeFactory = Callable[..., Envelope]


@pytest.fixture(scope="session")
def registry() -> Registry:
    """The contracts shipped in the repository's contracts/ directory."""
    return load_registry(CONTRACTS_DIR)


@pytest.fixture(scope="session")
def shipment(registry: Registry) -> Contract:
    """The example contract, shipment@1."""
    contract = registry.get("shipment", 1)
    assert contract is not None
    return contract


@pytest.fixture
def clock() -> Callable[[], datetime]:
    """A clock that always answers the same instant."""
    return lambda: FIXED_NOW


@pytest.fixture
def make_envelope(clock: Callable[[], datetime]) -> EnvelopeFactory:
    """Build an envelope addressed to shipment@1 (by default) and received at the fixed instant."""

    def make(
        raw: bytes, contract: str | None = "shipment", version: str | None = "1", **extra: Any
    ) -> Envelope:
        extra.setdefault("source", {"kind": "test"})
        return Envelope(raw=raw, contract=contract, version=version, received_at=clock(), **extra)

    return make


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SqliteStore]:
    """A fresh SQLite store in a temporary directory, closed afterwards."""
    store = SqliteStore(tmp_path / "gateway.db", writer="inline")
    yield store
    store.close()


@pytest.fixture
def pipeline(registry: Registry, sqlite_store: SqliteStore) -> Pipeline:
    """The pipeline over the repository's contracts and a fresh SQLite store."""
    return Pipeline(registry, sqlite_store)


class SerialGroupScheduling(LoadScopeScheduling):  # type: ignore[misc]  # xdist ships no types
    """xdist's scope scheduling with a scope per test, except the tests of :data:`SERIAL_GROUPS`, whose
    group is their scope (so one process runs them, one after another). Written here because
    ``--dist loadgroup`` stopped grouping with pytest 9.2 (pytest-xdist issue 1386)."""

    def _split_scope(self, nodeid: str) -> str:
        for prefix, group in SERIAL_GROUPS.items():
            if nodeid.startswith(f"tests/{prefix}"):
                return group
        return nodeid


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> SerialGroupScheduling:
    """The scheduler of :class:`SerialGroupScheduling`, whatever ``--dist`` says."""
    return SerialGroupScheduling(config, log)
