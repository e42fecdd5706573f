"""Helpers for the replay tests: a producer bug (shipment@2-shaped events sent to shipment@1) to replay."""

from datetime import UTC, datetime

import orjson

from sigma_aetl.core.envelope import Envelope
from sigma_aetl.core.records import AcceptedRecord
from sigma_aetl.ingest.pipeline import Pipeline
from sigma_aetl.stores.base import Lineage, Replayed

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def v2_shaped(n: int, destination: str = "Cork") -> bytes:
    """Shipment ``SHIP-n`` as shipment@2 has it (a service level, no priority): shipment@1 refuses it."""
    event = {"shipment_id": f"SHIP-{n}", "weight_kg": 3.5, "destination": destination}
    return orjson.dumps({**event, "service_level": "express"})


def jsonl(count: int, start: int = 0) -> bytes:
    """``count`` v2-shaped events as JSON Lines, SHIP-start onwards."""
    return b"".join(v2_shaped(n) + b"\n" for n in range(start, start + count))


def sent_to_v1(pipeline: Pipeline, raws: list[bytes]) -> list[str]:
    """Ingest ``raws`` addressed to shipment@1, each its own arrival; the failure ids they became."""
    envelopes = [Envelope(raw, "shipment", "1", T0, {"kind": "test", "n": i}) for i, raw in enumerate(raws)]
    outcomes = pipeline.process(envelopes)
    assert all(outcome.status == "FAILED" for outcome in outcomes)
    return [outcome.failure_id for outcome in outcomes if outcome.failure_id is not None]


def replayed(record: AcceptedRecord, failure_id: str, replay_id: str = "rpl_1") -> Replayed:
    """The record a replay of ``failure_id`` writes, with its lineage."""
    lineage = Lineage(
        record_id=record.record_id,
        replayed_from=failure_id,
        replay_id=replay_id,
        fingerprint=record.fingerprint,
        replayed_at=T0,
    )
    return Replayed(record, lineage)
