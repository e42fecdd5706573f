"""Record ⇄ document: what a MongoDB document holds for an accepted record or a failure, and back.

A document keeps the record's exact JSON in ``doc`` (BSON binary): BSON has no integers beyond 64 bits and
only millisecond datetimes, so reading ``doc`` back gives the very record written. Beside it sit typed
copies of what queries and indexes use: ids, contract, version, root cause, error ``fields``,
``received_at`` (a BSON datetime) with ``received_us`` (the exact microseconds, for ordering and ranges),
``source`` (its top-level scalars: Kafka topic, partition, offset...), the ``write_token`` of the
``write()`` call that stored it (see :mod:`sigma_aetl.stores.mongo.writes`) and ``rolled: 1``, which says
the write counts it in the analytics roll-ups (:mod:`sigma_aetl.stores.mongo.rollups`).

A failure identified by its bytes counts its arrivals beside ``doc`` (:func:`counting_update`), which never
changes: ``occurrences`` (arrivals counted by updates), ``first_counted`` (1 when ``occurrences`` counts the
first arrival too: the document was inserted counting), ``first_seen_us`` / ``last_seen_us``, ``latest``
(the latest arrivals, each its exact JSON as a string: nx-27017 stores binary pushed by ``$push`` as a
document of its own) and ``counted_by`` (the ``write_token`` of the
latest writes that counted, so that a retried write does not count twice). A failure without them (one
identified by a key or transport coordinates, or stored before they existed) arrived once, as ``doc`` says.
"""

from datetime import UTC, datetime
from typing import Any

import orjson

from sigma_aetl.core import serial
from sigma_aetl.core.records import (
    MAX_LATEST,
    AcceptedRecord,
    Arrival,
    FailureRecord,
    RawPayload,
    written_json,
)
from sigma_aetl.stores.arrivals import Tally
from sigma_aetl.stores.base import from_micros, micros
from sigma_aetl.stores.classes import record_producers

Doc = dict[str, Any]
"""A document as pymongo reads and writes it."""

_INT64 = range(-(2**63), 2**63)
COUNTED_BY = 10
"""How many of the latest counting writes a failure document remembers (``counted_by``): a write retried
after that many other writes counted the same failure in between would count again."""
FAILURE_FIELDS = {
    **{"_id": 0, "doc": 1, "occurrences": 1, "first_counted": 1},
    **{"first_seen_us": 1, "last_seen_us": 1, "latest": 1},
}
"""The projection that reads a failure back whole: its document and its occurrences."""


def record_doc(record: AcceptedRecord, token: str) -> Doc:
    """The document of an accepted record, stored by the ``write()`` call ``token`` names; ``producers``
    (its producer labels) also marks it as counted in producer activity (``mongo/classes.py``)."""
    return {
        "record_id": record.record_id,
        "producers": list(record_producers(record)),
        "contract": record.contract,
        "version": record.version,
        "contract_ref": f"{record.contract}@{record.version}",
        "fingerprint": record.fingerprint,
        "content_hash": record.content_hash,
        **_common(record, token),
    }


def failure_doc(failure: FailureRecord, token: str, class_id: str) -> Doc:
    """The document of a failure record of class ``class_id``, stored by the ``write()`` call ``token``
    names."""
    return {
        "failure_id": failure.failure_id,
        "class_id": class_id,
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


def counting_filter(failure_id: str, token: str) -> Doc:
    """The failure document, unless the ``write()`` call ``token`` names has counted it already."""
    return {"failure_id": failure_id, "counted_by": {"$nin": [token]}}


def counting_update(
    failure: FailureRecord, tally: Tally, token: str, class_id: str, *, insert: bool = True
) -> Doc:
    """Count ``tally``'s arrivals on a failure document; with ``insert``, the document to insert (counting
    from its first arrival) when there is none (an upsert)."""
    update: Doc = {
        "$inc": {"occurrences": tally.count},
        "$min": {"first_seen_us": tally.first_us},
        "$max": {"last_seen_us": tally.last_us},
        "$push": {
            "latest": {"$each": [_text(arrival) for arrival in tally.latest], "$slice": -MAX_LATEST},
            "counted_by": {"$each": [token], "$slice": -COUNTED_BY},
        },
    }
    if insert:
        document = failure_doc(failure, token, class_id)
        del document["failure_id"]  # the filter's
        update["$setOnInsert"] = {**document, "first_counted": 1}
    return update


def record_of(doc: Doc) -> AcceptedRecord:
    """The accepted record a document holds, exactly as written."""
    return serial.loads(AcceptedRecord, doc["doc"])


def failure_of(doc: Doc) -> FailureRecord:
    """The failure record a document holds, exactly as written, with its occurrences (read with
    :data:`FAILURE_FIELDS`)."""
    record = serial.loads(FailureRecord, doc["doc"])
    first_counted = doc.get("first_counted", 0)
    latest = [serial.loads(Arrival, item) for item in doc.get("latest", ())]
    if not first_counted and latest:  # counted since, but `latest` lacks the arrival the document holds
        latest = [record.first_arrival(), *latest][-MAX_LATEST:]
    return record.with_occurrences(
        doc.get("occurrences", 0) + 1 - first_counted,
        _instant(doc.get("first_seen_us")),
        _instant(doc.get("last_seen_us")),
        tuple(latest) if latest else None,
    )


def _text(arrival: Arrival) -> str:
    return serial.dumps(arrival).decode("utf-8")


def _instant(value: int | None) -> datetime | None:
    return None if value is None else from_micros(value)


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
        "rolled": 1,
        "doc": written_json(record) if isinstance(record, FailureRecord) else serial.dumps(record),
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
