"""The headers of an HTTP request, stored once however many events its batch holds.

Every event of a batch carries the request's transport metadata in its ``source``: a request of 264 KB
with a 256 KB ``User-Agent`` and 200 failing events used to leave 52 MB of failure records, the header
copied into each. A store now keeps a request's ``headers`` once, content-addressed — a row (SQLite) or
a document (MongoDB) under the SHA-256 of their JSON — and each record's stored ``source`` names them
instead (``headers_sha256``, in the place of ``headers``). A retry stores the same key again: nothing new.
Reads put the headers back (:func:`joined`), so every reader sees the full metadata, as sent.

Only ``source.kind == "http"`` is split, only headers whose JSON is over :data:`INLINE_HEADERS` bytes
(a few hundred bytes repeated cost less than a lookup per read, and splitting them would cost every
event of the hot path a copy of its record), and ``headers_sha256`` is a key no producer can set (the
gateway writes ``source`` itself). Records stored before keep their headers inline and read as they are.
"""

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sigma_aetl.core import serial
from sigma_aetl.core.canonical import sha256_hex
from sigma_aetl.core.records import AcceptedRecord, Arrival, FailureRecord, StoredRecord

INLINE_HEADERS = 512
"""Headers whose JSON is at most this many bytes stay inline in each record."""
HEADERS = "headers"
REF = "headers_sha256"
R = TypeVar("R", AcceptedRecord, FailureRecord)
Lookup = Callable[[set[str]], dict[str, bytes]]
"""The store's read of stored headers: their keys → their JSON (those it holds)."""


@dataclass(frozen=True, slots=True)
class Split:
    """Records ready to store, their ``source`` naming headers by key, and the headers by key."""

    records: list[AcceptedRecord]
    failures: list[FailureRecord]
    headers: dict[str, bytes]


def split(records: Sequence[AcceptedRecord], failures: Sequence[FailureRecord]) -> Split:
    """The records of a write with their HTTP headers taken out, each distinct set once."""
    keyed: dict[int, tuple[str, bytes] | None] = {}  # a batch's events share one headers dict: once
    records_out = [_split_one(record, keyed) for record in records]
    failures_out = [_split_one(failure, keyed) for failure in failures]
    return Split(records_out, failures_out, dict(found for found in keyed.values() if found is not None))


def _split_one(record: R, keyed: dict[int, tuple[str, bytes] | None]) -> R:
    source = record.source
    if source.get("kind") != "http" or not isinstance(source.get(HEADERS), dict):
        return record
    headers = source[HEADERS]
    if id(headers) not in keyed:
        body = serial.dumps(headers)
        keyed[id(headers)] = (sha256_hex(body), body) if len(body) > INLINE_HEADERS else None
    found = keyed[id(headers)]
    if found is None:
        return record
    named = {
        REF if name == HEADERS else name: found[0] if name == HEADERS else value
        for name, value in source.items()
    }
    return dataclasses.replace(record, source=named)


def keys_of(records: Iterable[StoredRecord]) -> set[str]:
    """The header keys that stored records name, arrivals included."""
    found: set[str] = set()
    for record in records:
        for source in _sources(record):
            if REF in source:
                found.add(source[REF])
    return found


def joined(records: list[R], lookup: Lookup) -> list[R]:
    """``records`` as read, with the headers they name put back (one lookup for them all)."""
    keys = keys_of(records)
    if not keys:
        return records
    headers = {key: serial.loads(dict[str, Any], body) for key, body in lookup(keys).items()}
    return [_joined(record, headers) for record in records]


def _joined(record: R, headers: dict[str, dict[str, Any]]) -> R:
    joined = dataclasses.replace(record, source=_put_back(record.source, headers))
    if isinstance(joined, FailureRecord) and joined.occurrences is not None:
        latest = tuple(
            Arrival(received_at=arrival.received_at, source=_put_back(arrival.source, headers))
            for arrival in joined.occurrences.latest
        )
        return _with_latest(joined, latest)  # type: ignore[return-value]  # R is FailureRecord here
    return joined


def _with_latest(failure: FailureRecord, latest: tuple[Arrival, ...]) -> FailureRecord:
    assert failure.occurrences is not None
    return dataclasses.replace(failure, occurrences=dataclasses.replace(failure.occurrences, latest=latest))


def _put_back(source: dict[str, Any], headers: dict[str, dict[str, Any]]) -> dict[str, Any]:
    key = source.get(REF)
    if key not in headers:  # none named, or (never expected) not stored: shown as stored
        return source
    return {
        HEADERS if name == REF else name: headers[key] if name == REF else value
        for name, value in source.items()
    }


def _sources(record: StoredRecord) -> list[dict[str, Any]]:
    if isinstance(record, FailureRecord) and record.occurrences is not None:
        return [record.source, *(arrival.source for arrival in record.occurrences.latest)]
    return [record.source]
