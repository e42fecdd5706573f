"""The store conformance suite, diagnosis: a failure read back from any store is diagnosed as when written.

A diagnosis is built only from the stored failure and the contracts, so every store must hand back what
the diagnosis reads (errors, raw bytes, contract) unchanged. The class diagnosis needs the stores' class
queries (the ``classes`` work of issue 14): ``tests/ingest/test_diagnosis.py`` covers it meanwhile.
"""

from datetime import UTC, datetime

import pytest

from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core.envelope import Envelope
from sigma_aetl.core.records import FailureRecord, build_record
from sigma_aetl.core.validator import validate
from sigma_aetl.ingest.diagnosis import diagnose, diagnose_failure
from sigma_aetl.ingest.pipeline import Pipeline
from sigma_aetl.stores import Store
from sigma_aetl.testing import INVALID_UTF8

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
PAYLOADS = [
    b'{"shipment_id": "S-1", "weight_kg": 3, "destination": "Cork", "service_level": "express"}',
    b'{"shipmentId": "S-2", "weight_kg": 3, "destinaton": "Cork", "priority": 1}',
    INVALID_UTF8,
]


@pytest.mark.parametrize("raw", PAYLOADS, ids=["v2-shaped", "renamed", "not-utf8"])
def test_a_stored_failure_is_diagnosed_as_when_written(registry: Registry, store: Store, raw: bytes) -> None:
    """Diagnosing a failure read from the store gives exactly the diagnosis of the failure as built."""
    envelope = Envelope(raw=raw, contract="shipment", version="1", received_at=T0, source={"kind": "stdin"})
    (outcome,) = Pipeline(registry, store).process([envelope])
    contract = registry.get("shipment", 1)
    built = build_record(envelope, validate(contract, raw), contract) if contract else None
    assert outcome.failure_id is not None
    assert isinstance(built, FailureRecord)
    read = diagnose(store, registry, outcome.failure_id, all_contracts=True)
    assert read is not None
    assert read.model_dump_json() == diagnose_failure(registry, built, all_contracts=True).model_dump_json()
