"""Records and row counts for the SQLite store's tests: shipment@1 records built by key, with no fixtures, so
a script run in a subprocess can build the same ones.
"""

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from sigma_aetl.core.canonical import canonical_bytes, sha256_hex
from sigma_aetl.core.decision import FieldError
from sigma_aetl.core.ids import failure_id, record_id
from sigma_aetl.core.records import AcceptedRecord, FailureRecord, RawPayload
from sigma_aetl.core.taxonomy import RootCause, Stage

T0 = datetime(2024, 5, 1, 12, tzinfo=UTC)


def accepted(key: str, destination: str = "Cork", at: datetime = T0) -> AcceptedRecord:
    """An accepted shipment@1 record for shipment ``key``."""
    data = {"destination": destination, "priority": 1, "shipment_id": key, "weight_kg": 2}
    raw = canonical_bytes(data)
    return AcceptedRecord(
        record_id=record_id("shipment", 1, [key]),
        contract="shipment",
        version=1,
        fingerprint="sha256:test",
        data=data,
        content_hash=sha256_hex(raw),
        raw=RawPayload.of(raw),
        received_at=at,
        source={"kind": "test"},
    )


def failure(key: str, at: datetime = T0, path: str = "priority") -> FailureRecord:
    """A failure record for shipment@1 identified by idempotency key ``key``."""
    error = FieldError(
        path=path,
        loc=(path,),
        type="missing",
        root_cause=RootCause.MISSING_FIELD,
        stage=Stage.SCHEMA,
        message="Field required",
        explanation=f"{path}: required, but the field is missing.",
    )
    return FailureRecord(
        failure_id=failure_id("shipment", "1", ("key", key)),
        contract_ref="shipment@1",
        contract="shipment",
        version=1,
        fingerprint="sha256:test",
        root_cause=RootCause.MISSING_FIELD,
        stage=Stage.SCHEMA,
        errors=(error,),
        raw=RawPayload.of(key.encode()),
        received_at=at,
        source={"kind": "test"},
    )


def count(path: Path, table: str) -> int:
    """Rows in ``table``, read with a connection of our own."""
    with sqlite3.connect(path) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
