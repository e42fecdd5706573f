"""The diagnosis service: stored failures judged again against other versions, near misses and drift.

The class tests run on a SqliteStore, which keeps failure classes and producer activity as it writes.
"""

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core.classes import class_id_of
from sigma_aetl.core.diagnosis import Diagnosis
from sigma_aetl.core.envelope import Envelope
from sigma_aetl.core.records import FailureRecord, RawPayload, build_record
from sigma_aetl.core.validator import validate
from sigma_aetl.ingest.diagnosis import diagnose, diagnose_failure
from sigma_aetl.ingest.pipeline import Pipeline
from sigma_aetl.stores.sqlite import SqliteStore
from sigma_aetl.testing import EXTRA_FIELD, INVALID_UTF8
from strategies import dumps, json_ish_text, json_objects

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
V2 = b'{"shipment_id": "S-%d", "weight_kg": 3, "destination": "Cork", "service_level": "express"}'
V1 = b'{"shipment_id": "A-%d", "weight_kg": 3, "destination": "Cork", "priority": 1}'
RENAMED = b'{"shipmentId": "S-1", "weight_kg": 3, "destinaton": "Cork", "priority": 1}'


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    """A SQLite store (it keeps failure classes as it writes)."""
    opened = SqliteStore(tmp_path / "gateway.db", writer="inline")
    yield opened
    opened.close()


def send(
    registry: Registry,
    store: SqliteStore,
    raws: list[bytes],
    *,
    ref: tuple[str, str] = ("shipment", "1"),
    source: str = "orders.jsonl",
    at: datetime = T0,
) -> list[str]:
    """Ingest ``raws`` addressed to ``ref`` from a file ``source``, a second apart; the failures' ids."""
    envelopes = [
        Envelope(
            raw=raw,
            contract=ref[0],
            version=ref[1],
            received_at=at + timedelta(seconds=i),
            source={"kind": "file", "path": source, "line": i + 1},
        )
        for i, raw in enumerate(raws)
    ]
    outcomes = Pipeline(registry, store).process(envelopes)
    return [o.failure_id for o in outcomes if o.failure_id is not None]


def failure(store: SqliteStore, failure_id: str) -> FailureRecord:
    """The stored failure of that id."""
    found = store.get_failure(failure_id)
    assert found is not None
    return found


def test_a_v2_payload_sent_to_v1_passes_v2(registry: Registry, store: SqliteStore) -> None:
    """A shipment@2-shaped event sent to shipment@1 is diagnosed as passing shipment@2, and only it."""
    (failure_id,) = send(registry, store, [V2 % 1])
    found = diagnose(store, registry, failure_id)
    assert found is not None
    assert found.would_pass_as.tried == ["shipment@2"]
    assert [p.contract for p in found.would_pass_as.passes] == ["shipment@2"]
    assert "passes shipment@2: the producer is sending shipment@2 payloads to shipment@1" in found.summary
    assert [(e.path, e.type) for e in found.errors] == [
        ("priority", "missing"),
        ("service_level", "extra_forbidden"),
    ]
    assert all(e.hint for e in found.errors)
    assert found.class_id == class_id_of(failure(store, failure_id))


def test_every_contract_is_tried_only_when_asked(registry: Registry, store: SqliteStore) -> None:
    """With all contracts, every other loaded version is tried, the contract's own first, then by name."""
    (failure_id,) = send(registry, store, [EXTRA_FIELD])
    alone = diagnose(store, registry, failure_id)
    every = diagnose(store, registry, failure_id, all_contracts=True)
    assert alone is not None
    assert every is not None
    assert alone.would_pass_as.passes == []
    assert every.would_pass_as.tried == ["shipment@2", "order@1", "shipment_compat@1"]
    assert [p.contract for p in every.would_pass_as.passes] == ["shipment_compat@1"]


def test_a_payload_that_cannot_be_read_is_not_judged(registry: Registry, store: SqliteStore) -> None:
    """A payload not valid UTF-8, or not JSON, is named as not judged again, with the reason."""
    ids = send(registry, store, [INVALID_UTF8, b'{"shipment_id": '])
    reasons = []
    for failure_id in ids:
        found = diagnose(store, registry, failure_id)
        assert found is not None
        assert (found.would_pass_as.judged, found.would_pass_as.passes) == (0, [])
        assert found.would_pass_as.words.startswith("Cannot be judged again")
        reasons.append(found.would_pass_as.not_judged[0].reason)
    assert sorted(reason.split(":")[0] for reason in reasons) == [
        "not readable as JSON",
        "not valid UTF-8, so not JSON text",
    ]


def test_a_truncated_payload_is_not_judged(registry: Registry, store: SqliteStore) -> None:
    """A payload kept truncated (over the request limit) is said to be truncated, not judged."""
    (failure_id,) = send(registry, store, [V2 % 1])
    stored = failure(store, failure_id)
    cut = RawPayload.of(V2[:20], size=5000, truncated=True)
    found = diagnose_failure(registry, dataclasses.replace(stored, raw=cut))
    assert found.would_pass_as.not_judged[0].reason == "truncated: only the first 20 of 5000 bytes were kept"


def test_an_unknown_version_is_judged_against_every_version(registry: Registry, store: SqliteStore) -> None:
    """An event sent to a version that does not exist is judged against each version of that contract."""
    (failure_id,) = send(registry, store, [V1 % 1], ref=("shipment", "7"))
    found = diagnose(store, registry, failure_id)
    assert found is not None
    assert found.would_pass_as.tried == ["shipment@1", "shipment@2"]
    assert [p.contract for p in found.would_pass_as.passes] == ["shipment@1"]


def test_near_misses_name_the_renamed_fields(registry: Registry, store: SqliteStore) -> None:
    """Fields renamed by case or a typo are near misses of the missing ones, and the summary says so."""
    (failure_id,) = send(registry, store, [RENAMED])
    found = diagnose(store, registry, failure_id)
    assert found is not None
    assert [(m.missing, m.unexpected, m.reason) for m in found.near_misses] == [
        ("destination", "destinaton", "edit_distance"),
        ("shipment_id", "shipmentId", "case_or_separators"),
    ]
    assert "Probably renamed: destinaton for destination, shipmentId for shipment_id." in found.summary


def _class(registry: Registry, store: SqliteStore) -> Diagnosis:
    """A producer that sent 3 valid shipment@1 events, then 5 v2 ones; a new producer sends 1 v2 one."""
    send(registry, store, [V1 % i for i in range(3)], source="old.jsonl")
    send(registry, store, [V2 % i for i in range(5)], source="old.jsonl", at=T0 + timedelta(hours=1))
    first = send(registry, store, [V2 % 9], source="new.jsonl", at=T0 + timedelta(hours=2))[0]
    found = diagnose(store, registry, class_id_of(failure(store, first)))
    assert found is not None
    return found


def test_a_class_is_judged_over_its_samples(registry: Registry, store: SqliteStore) -> None:
    """A class's samples are judged again together: all five pass shipment@2."""
    found = _class(registry, store)
    assert found.subject == "class"
    assert len(found.samples) == 5
    assert found.would_pass_as.passes[0].model_dump() == {"contract": "shipment@2", "passed": 5, "judged": 5}
    assert found.would_pass_as.words == (
        "All 5 samples pass shipment@2: the producer is sending shipment@2 payloads to shipment@1."
    )
    assert [(e.path, e.type) for e in found.errors] == [
        ("priority", "missing"),
        ("service_level", "extra_forbidden"),
    ]


def test_drift_tells_a_producer_that_changed_from_a_new_one(registry: Registry, store: SqliteStore) -> None:
    """A producer with records accepted before the class appeared changed; one without is new."""
    found = _class(registry, store)
    assert found.drift is not None
    assert found.drift.first_seen == T0 + timedelta(hours=1)
    assert found.drift.first_failure_id == found.samples[0]
    verdicts = {(p.producer, p.verdict, p.failures, p.accepted) for p in found.drift.producers}
    assert verdicts == {("file:old.jsonl", "changed", 5, 3), ("file:new.jsonl", "new", 1, 0)}
    assert "1 producer(s) that changed, 1 new" in found.summary


def test_an_unknown_id_is_none(registry: Registry, store: SqliteStore) -> None:
    """An id no failure or class has gives no diagnosis."""
    assert diagnose(store, registry, "fail_" + "0" * 32) is None
    assert diagnose(store, registry, "cls_" + "0" * 32) is None


def test_the_diagnosis_is_the_same_on_every_run(registry: Registry, store: SqliteStore) -> None:
    """Diagnosing the same class twice gives byte-identical JSON."""
    found = _class(registry, store)
    again = diagnose(store, registry, found.id)
    assert again is not None
    assert again.model_dump_json() == found.model_dump_json()


@settings(max_examples=60, deadline=None)
@given(
    st.one_of(json_objects.map(dumps), json_ish_text.map(lambda text: text.encode("utf-8", "surrogatepass")))
)
def test_any_failure_is_diagnosed_without_raising_and_alike_twice(registry: Registry, raw: bytes) -> None:
    """Whatever bytes failed, the diagnosis is built without raising, and twice gives the same JSON."""
    contract = registry.get("shipment", 1)
    assert contract is not None
    envelope = Envelope(raw=raw, contract="shipment", version="1", received_at=T0, source={"kind": "stdin"})
    record = build_record(envelope, validate(contract, raw), contract)
    if not isinstance(record, FailureRecord):
        return
    first = diagnose_failure(registry, record, all_contracts=True)
    assert first.model_dump_json() == diagnose_failure(registry, record, all_contracts=True).model_dump_json()
    assert first.would_pass_as.judged + len(first.would_pass_as.not_judged) == 1
