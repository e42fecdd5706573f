"""Failure records as a reader without ``read:raw`` sees them: raw payloads and transport headers masked.

A failure keeps the bytes exactly as sent and the request's headers and client address: what an auditor
needs, and what a producer may not want every reader to see. A key with ``read`` but not ``read:raw`` (nor
``admin``) gets each failure with, in place of them::

    raw.text                   ""          (encoding, size, sha256 and truncated stay: they reveal nothing)
    source.headers, .client, .key          null   (Kafka's message key too; topic, offset, key_id... stay)
    the same in each of occurrences.latest
    masked                     {"fields": [...], "reveal_with": "read:raw"}

so the record keeps its documented shape, and says what was masked and which scope shows it. In open mode,
and with read:raw, failures are answered whole, as stored.
"""

from typing import Any

from sigma_aetl.core import serial
from sigma_aetl.core.keys import READ_RAW
from sigma_aetl.core.records import FailureRecord
from sigma_aetl.stores.base import FailurePage

MASKED_SOURCE = ("headers", "client", "key")
MASKED_CLIENT = "client:(masked)"
"""A ``client:<address>`` producer label (``core/classes.py``) as a reader without read:raw sees it."""
"""Members of a failure's ``source`` (and its arrivals') that a reader without read:raw does not see."""
_NOTE = {
    "fields": ["raw.text", *(f"source.{name}" for name in MASKED_SOURCE), "occurrences.latest[].source"],
    "reveal_with": READ_RAW,
}


def masked_failure(record: FailureRecord) -> dict[str, Any]:
    """The failure as JSON, raw payload and transport headers masked (see the module docstring)."""
    doc: dict[str, Any] = serial.jsonable(record)
    doc["raw"] = {**doc["raw"], "text": ""}
    doc["source"] = _masked_source(doc["source"])
    occurrences = doc.get("occurrences")
    if occurrences:
        latest = [
            {**arrival, "source": _masked_source(arrival["source"])} for arrival in occurrences["latest"]
        ]
        doc["occurrences"] = {**occurrences, "latest": latest}
    doc["masked"] = _NOTE
    return doc


def masked_page(page: FailurePage) -> dict[str, Any]:
    """A page of failures, each masked."""
    return {
        **page.model_dump(mode="json", exclude={"items"}),
        "items": [masked_failure(f) for f in page.items],
    }


def _masked_source(source: dict[str, Any]) -> dict[str, Any]:
    return {name: None if name in MASKED_SOURCE else value for name, value in source.items()}
