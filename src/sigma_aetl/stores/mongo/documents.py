"""Record ⇄ document: what a MongoDB document holds for an accepted record or a failure, and back.

A document keeps the record's exact JSON in ``doc`` (BSON binary): BSON has no integers beyond 64 bits and
only millisecond datetimes, so reading ``doc`` back gives the very record written. Beside it sit typed
copies of what queries and indexes use: ids, contract, version, root cause, error ``fields``,
``received_at`` (a BSON datetime) with ``received_us`` (the exact microseconds, for ordering and ranges),
``source`` (its top-level scalars: Kafka topic, partition, offset...) and the ``write_token`` of the
``write()`` call that stored it (see :mod:`sigma_aetl.stores.mongo.writes`).
"""

from datetime import UTC, datetime
from typing import Any

import orjson

from sigma_aetl.core import serial
from sigma_aetl.core.records import AcceptedRecord, FailureRecord, RawPayload
from sigma_aetl.stores.base import micros

Doc = dict[str, Any]
"""A document as pymongo reads and writes it."""

_INT64 = range(-(2**63), 2**63)


def record_doc(record: AcceptedRecord, token: str) -> Doc:
    """The document of an accepted record, stored by the ``write()`` call ``token`` names."""
    return {
        "record_id": record.record_id,
        "contract": record.contract,
        "version": record.version,
        "contract_ref": f"{record.contract}@{record.version}",
        "fingerprint": record.fingerprint,
        "content_hash": record.content_hash,
        **_common(record, token),
    }


def failure_doc(failure: FailureRecord, token: str) -> Doc:
    """The document of a failure record, stored by the ``write()`` call ``token`` names."""
    return {
        "failure_id": failure.failure_id,
        "contract_ref": failure.contract_ref,
        "contract": failure.contract,
        "version": failure.version,
        "fingerprint": failure.fingerprint,
        "root_cause": failure.root_cause.value,
        "stage": failure.stage.value,
        "fields": failure.fields,
        "conflicts_with": failure.conflicts_with,
        **_common(failure, token),
    }


def record_of(doc: Doc) -> AcceptedRecord:
    """The accepted record a document holds, exactly as written."""
    return serial.loads(AcceptedRecord, doc["doc"])


def failure_of(doc: Doc) -> FailureRecord:
    """The failure record a document holds, exactly as written."""
    return serial.loads(FailureRecord, doc["doc"])


def raw_of(doc: bytes) -> RawPayload:
    """The raw payload inside a document's ``doc`` bytes, without building the whole record."""
    return serial.load(RawPayload, orjson.loads(doc)["raw"])


def utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime (a naive one is taken as UTC), the form BSON stores."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _common(record: AcceptedRecord | FailureRecord, token: str) -> Doc:
    return {
        "received_at": utc(record.received_at),
        "received_us": micros(record.received_at),
        "source": {key: value for key, value in record.source.items() if _bson_scalar(value)},
        "write_token": token,
        "doc": serial.dumps(record),
    }


def _bson_scalar(value: Any) -> bool:
    """True for values BSON holds exactly: UTF-8 strings, 64-bit integers, floats, booleans, null."""
    if isinstance(value, str):
        return _encodable(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value in _INT64
    return value is None or isinstance(value, float | bool)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True
