"""The advisor's tests: settings pointing at a scripted Ollama server, failures ingested through the real
pipeline, and one advisor run (failure classes are the store's own, kept as the failures are written)."""

import asyncio
import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sigma_aetl.advisor.client import OllamaModel
from sigma_aetl.advisor.runner import Advisor, Summary
from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core.envelope import Envelope
from sigma_aetl.core.records import FailureRecord
from sigma_aetl.examples import CONTRACTS
from sigma_aetl.ingest.outcome import Outcome
from sigma_aetl.ingest.pipeline import Pipeline
from sigma_aetl.settings import Settings
from sigma_aetl.stores import Store
from sigma_aetl.stores.base import MAX_PAGE, FailureQuery
from sigma_aetl.testing import VALID_SHIPMENT

FIXED_NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
"""When the events these tests ingest are received."""
NEGATIVE = b'{"shipment_id": "S-%d", "weight_kg": -5, "destination": "Cork", "priority": 1}'
MISSING = b'{"shipment_id": "S-%d", "weight_kg": 2, "destination": "Cork"}'
STRING_PRIORITY = b'{"shipment_id": "S-%d", "weight_kg": 2, "destination": "Cork", "priority": "2"}'
KINDS = (NEGATIVE, MISSING, STRING_PRIORITY)


def advisor_settings(
    tmp_path: Path, url: str | None, contracts: Path = CONTRACTS, **overrides: Any
) -> Settings:
    """Settings for a SQLite store under ``tmp_path`` and an advisor at ``url``, retrying fast."""
    options: dict[str, Any] = {
        "store_url": f"sqlite:///{tmp_path}/gateway.db",
        "contracts_dir": contracts,
        "advisor_url": url,
        "advisor_timeout": 2.0,
        "advisor_backoff": 0.01,
        "advisor_breaker_cooldown": 0.3,
        **overrides,
    }
    return Settings(**options)


def envelopes(
    payloads: Sequence[bytes],
    contract: str = "shipment",
    version: str = "1",
    received_at: datetime = FIXED_NOW,
) -> list[Envelope]:
    """One envelope per payload, received at ``received_at`` (the tests' fixed instant unless told), each
    with its own idempotency key (of its bytes: the same payload ingested twice is one event)."""
    return [
        Envelope(
            raw=raw,
            contract=contract,
            version=version,
            received_at=received_at,
            source={"kind": "test"},
            idempotency_key=f"key-{hashlib.sha256(raw).hexdigest()[:16]}",
        )
        for raw in payloads
    ]


def three_kinds(per_kind: int) -> list[bytes]:
    """``per_kind`` failing shipments of each of three kinds (three classes), and one valid one."""
    return [kind % n for n in range(per_kind) for kind in KINDS] + [VALID_SHIPMENT]


def ingest(
    store: Store, registry: Registry, payloads: Sequence[bytes], received_at: datetime = FIXED_NOW
) -> list[Outcome]:
    """Decide and store ``payloads``, received at ``received_at``, through the real pipeline."""
    return Pipeline(registry, store).process(envelopes(payloads, received_at=received_at))


def every_failure(store: Store) -> list[FailureRecord]:
    """Every stored failure, newest first."""
    found: list[FailureRecord] = []
    offset: int | None = 0
    while offset is not None:
        page = store.query_failures(FailureQuery(limit=MAX_PAGE, offset=offset))
        found += page.items
        offset = page.next_offset
    return found


def run_advisor(settings: Settings, store: Store, registry: Registry, **options: Any) -> Summary:
    """One ``advisor run --once`` against ``settings.advisor_url``."""

    async def once() -> Summary:
        assert settings.advisor_url is not None
        model = OllamaModel(settings.advisor_url, settings.advisor_timeout)
        try:
            return await Advisor(settings, store, registry, model, **options).run_once()
        finally:
            await model.close()

    return asyncio.run(once())
