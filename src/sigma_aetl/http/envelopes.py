"""Turn an HTTP request into envelopes: raw bytes plus the request's transport metadata."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sigma_aetl.core.batches import looks_like_array, split_array, split_lines
from sigma_aetl.core.envelope import Envelope
from sigma_aetl.core.ids import SourceIdentity
from sigma_aetl.http.coordinates import coordinates
from sigma_aetl.http.view import RequestView

NDJSON_TYPES = ("application/x-ndjson", "application/jsonl", "application/ndjson", "application/json-seq")
_KEPT_HEADERS = (
    *("content-type", "content-length", "user-agent", "idempotency-key", "x-request-id"),
    *("forwarded", "x-forwarded-for"),  # what a proxy says of the client, trusted or not
)


@dataclass(frozen=True, slots=True)
class RequestInfo:
    """What the gateway records about one HTTP request."""

    request_id: str
    received_at: datetime
    metadata: dict[str, Any]
    idempotency_key: str | None
    identity: SourceIdentity | None = None
    """The forwarded Kafka message's identity, from the X-Kafka-* headers (see coordinates.py)."""


def request_info(view: RequestView) -> RequestInfo:
    """Request id (``X-Request-ID`` or a new one), client, method, path and the relevant headers, and the
    Kafka coordinates of a forwarded message; raises BadCoordinates for malformed ones."""
    headers = view.headers
    request_id = headers.get("x-request-id") or uuid.uuid4().hex
    metadata: dict[str, Any] = {
        "kind": "http",
        "request_id": request_id,
        "client": view.client,
        "method": view.method,
        "path": view.path,
        "headers": {name: headers[name] for name in _KEPT_HEADERS if name in headers},
    }
    key = headers.get("idempotency-key")
    # Kafka coordinates forwarded by an orchestrator (n8n): recorded, and the arrival's identity
    forwarded = coordinates(headers)
    if forwarded is not None:
        metadata["kafka"] = forwarded.metadata()
    identity = forwarded.identity() if forwarded else None
    return RequestInfo(request_id, datetime.now(UTC), metadata, key or None, identity)


def is_batch(view: RequestView, body: bytes) -> bool:
    """NDJSON by content type, or a body that is a JSON array."""
    return view.media_type in NDJSON_TYPES or looks_like_array(body)


def split_batch(view: RequestView, body: bytes) -> list[bytes]:
    """The events of a batch body; a malformed array is one (failing) event holding the whole body."""
    if view.media_type in NDJSON_TYPES:
        return split_lines(body)
    elements = split_array(body)
    return [body] if elements is None else elements


def envelope(
    info: RequestInfo,
    raw: bytes,
    contract: str | None,
    version: str | None,
    *,
    index: int | None = None,
    identity: SourceIdentity | None = None,
) -> Envelope:
    """One envelope; in a batch, ``index`` numbers the event and extends the idempotency key."""
    source = info.metadata if index is None else {**info.metadata, "index": index}
    key = info.idempotency_key
    if key is not None and index is not None:
        key = f"{key}#{index}"
    if identity is None and info.identity is not None:  # one message, a batch of events: number them
        identity = info.identity if index is None else (*info.identity, str(index))
    return Envelope(
        raw=raw,
        contract=contract,
        version=version,
        received_at=info.received_at,
        source=source,
        idempotency_key=key,
        transport_identity=identity,
    )
