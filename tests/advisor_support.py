"""The advisor's tests: settings pointing at a scripted Ollama server, failures ingested through the real
pipeline, one advisor run, and a test-only store wrapper that answers the failure-class queries.

``ClassesFromFailures`` stands in until the stores keep failure classes themselves (the classes work of
issue 14): it derives each class from the stored failures with ``core/classes.py``, so the advisor's
class scope is tested against the same class ids the stores will keep.
"""

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from sigma_aetl.advisor.client import OllamaModel
from sigma_aetl.advisor.runner import Advisor, Summary
from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core.classes import MAX_SAMPLES, FailureClass, class_id_of, signature_of
from sigma_aetl.core.envelope import Envelope
from sigma_aetl.core.records import FailureRecord
from sigma_aetl.examples import CONTRACTS
from sigma_aetl.ingest.outcome import Outcome
from sigma_aetl.ingest.pipeline import Pipeline
from sigma_aetl.settings import Settings
from sigma_aetl.stores import Store
from sigma_aetl.stores.base import MAX_PAGE, ClassPage, ClassQuery, FailureQuery
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


def envelopes(payloads: Sequence[bytes], contract: str = "shipment", version: str = "1") -> list[Envelope]:
    """One envelope per payload, received at the tests' fixed instant, each with its own idempotency key."""
    return [
        Envelope(
            raw=raw,
            contract=contract,
            version=version,
            received_at=FIXED_NOW,
            source={"kind": "test"},
            idempotency_key=f"key-{n}",
        )
        for n, raw in enumerate(payloads)
    ]


def three_kinds(per_kind: int) -> list[bytes]:
    """``per_kind`` failing shipments of each of three kinds (three classes), and one valid one."""
    return [kind % n for n in range(per_kind) for kind in KINDS] + [VALID_SHIPMENT]


def ingest(store: Store, registry: Registry, payloads: Sequence[bytes]) -> list[Outcome]:
    """Decide and store ``payloads`` through the real pipeline."""
    return Pipeline(registry, store).process(envelopes(payloads))


def every_failure(store: Store) -> list[FailureRecord]:
    """Every stored failure, newest first."""
    found: list[FailureRecord] = []
    offset: int | None = 0
    while offset is not None:
        page = store.query_failures(FailureQuery(limit=MAX_PAGE, offset=offset))
        found += page.items
        offset = page.next_offset
    return found


class ClassesFromFailures:
    """A store whose failure-class queries are answered from its failures (everything else is the store's)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def classes(self) -> list[FailureClass]:
        """Every class of the stored failures, most failures first."""
        groups: dict[str, list[FailureRecord]] = defaultdict(list)
        for failure in sorted(every_failure(self._store), key=lambda f: (f.received_at, f.failure_id)):
            groups[class_id_of(failure)].append(failure)
        return sorted((_class_of(group) for group in groups.values()), key=lambda c: (-c.count, c.class_id))

    def query_classes(self, query: ClassQuery) -> ClassPage:
        """One page of :meth:`classes` (filters are not applied: the advisor asks for them all)."""
        found = self.classes()
        items = found[query.offset : query.offset + query.limit]
        after = query.offset + len(items)
        more = after if after < len(found) else None
        return ClassPage(
            items=items, total=len(found), limit=query.limit, offset=query.offset, next_offset=more
        )

    def get_class(self, class_id: str) -> FailureClass | None:
        """One class of :meth:`classes`."""
        return next((found for found in self.classes() if found.class_id == class_id), None)


def with_classes(store: Store) -> Store:
    """``store`` with failure-class queries answered from its failures (see :class:`ClassesFromFailures`)."""
    return cast(Store, ClassesFromFailures(store))


def _class_of(group: list[FailureRecord]) -> FailureClass:
    first = group[0]
    signature = signature_of(first)
    return FailureClass(
        class_id=signature.class_id,
        contract_ref=first.contract_ref,
        contract=first.contract,
        version=first.version,
        root_cause=first.root_cause,
        errors=signature.errors,
        count=len(group),
        occurrences=len(group),
        first_seen=first.received_at,
        last_seen=group[-1].received_at,
        first_failure_id=first.failure_id,
        producers={},
        samples=tuple(failure.failure_id for failure in group[:MAX_SAMPLES]),
    )


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
