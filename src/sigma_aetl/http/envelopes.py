"""Turn an HTTP request into envelopes: raw bytes plus the request's transport metadata."""

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sigma_aetl.core.batches import looks_like_array, split_array, split_lines, split_sequence
from sigma_aetl.core.envelope import Envelope, Truncation
from sigma_aetl.core.ids import SourceIdentity
from sigma_aetl.http.body import TooLarge
from sigma_aetl.http.coordinates import coordinates
from sigma_aetl.http.mediatypes import JSON_SEQ, NDJSON_TYPES
from sigma_aetl.http.view import RequestView

_KEPT_HEADERS = (
    *("content-type", "content-length", "user-agent", "idempotency-key", "x-request-id"),
    *("forwarded", "x-forwarded-for"),  # what a proxy says of the client, trusted or not
)


RECORDED_HEADER_BYTES = 1024
"""Most bytes of one header value recorded, unless configured (``max_recorded_header_bytes``)."""


@dataclass(frozen=True, slots=True)
class RequestInfo:
    """What the gateway records about one HTTP request."""

    request_id: str
    received_at: datetime
    metadata: dict[str, Any]
    idempotency_key: str | None
    identity: SourceIdentity | None = None
    """The forwarded Kafka message's identity, from the X-Kafka-* headers (see coordinates.py)."""


def request_info(view: RequestView, max_header: int = RECORDED_HEADER_BYTES) -> RequestInfo:
    """Request id (the request-id hook's, ``requestid.py``; else ``X-Request-ID`` or a new one), client,
    method, path, the relevant headers (each value at most ``max_header`` characters, see
    :func:`recorded_headers`), the id of the API key that sent it (never its token; absent when the gateway
    runs open), and the Kafka coordinates of a forwarded message; raises BadCoordinates for malformed ones."""
    headers = view.headers
    request_id = view.request_id or headers.get("x-request-id") or uuid.uuid4().hex
    metadata: dict[str, Any] = {
        "kind": "http",
        "request_id": request_id[:max_header],
        "client": view.client,
        "method": view.method,
        "path": view.path,
        **recorded_headers(headers, max_header),
    }
    if view.key_id is not None:
        metadata["key_id"] = view.key_id
    key = headers.get("idempotency-key")
    # Kafka coordinates forwarded by an orchestrator (n8n): recorded, and the arrival's identity
    forwarded = coordinates(headers)
    if forwarded is not None:
        metadata["kafka"] = forwarded.metadata()
    identity = forwarded.identity() if forwarded else None
    return RequestInfo(request_id, datetime.now(UTC), metadata, key or None, identity)


def recorded_headers(headers: dict[str, str], max_header: int) -> dict[str, dict[str, Any]]:
    """The kept headers, each value cut to its first ``max_header`` characters; ``headers_truncated``
    names each one cut and its real length (present only when one was cut).

    Header values are the bytes received read as latin-1, one character per byte (RequestView does so),
    so a value is recorded losslessly — ``value.encode("latin-1")`` is the bytes sent — and its length in
    characters is its length in bytes.
    """
    kept = {name: headers[name] for name in _KEPT_HEADERS if name in headers}
    cut = {name: len(value) for name, value in kept.items() if len(value) > max_header}
    if not cut:
        return {"headers": kept}
    return {"headers": {name: value[:max_header] for name, value in kept.items()}, "headers_truncated": cut}


def is_batch(view: RequestView, body: bytes) -> bool:
    """NDJSON or a JSON text sequence by content type, or a body that is a JSON array."""
    media_type = view.media_type
    return media_type in NDJSON_TYPES or media_type == JSON_SEQ or looks_like_array(body)


def split_batch(view: RequestView, body: bytes) -> list[bytes]:
    """The events of a batch body; a malformed array is one (failing) event holding the whole body."""
    if view.media_type in NDJSON_TYPES:
        return split_lines(body)
    if view.media_type == JSON_SEQ:
        return split_sequence(body)
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
    """One envelope; in a batch, ``index`` numbers the event, which with the idempotency key names it."""
    source = info.metadata if index is None else {**info.metadata, "index": index}
    if identity is None and info.identity is not None:  # one message, a batch of events: number them
        identity = info.identity if index is None else (*info.identity, str(index))
    return Envelope(
        raw=raw,
        contract=contract,
        version=version,
        received_at=info.received_at,
        source=source,
        idempotency_key=info.idempotency_key,
        batch_index=index,
        transport_identity=identity,
    )


def oversized_envelope(info: RequestInfo, body: TooLarge, contract: str, version: str) -> Envelope:
    """The envelope of a body over the limit: its first bytes; read to its end, its whole SHA-256 (in
    ``source.body_sha256`` too), which then identifies it as if it had been kept."""
    kept = envelope(info, body.prefix, contract, version)
    if body.sha256 is None or body.size is None:
        return kept
    source = {**kept.source, "body_sha256": body.sha256}
    return replace(kept, source=source, truncated=Truncation(body.size, body.sha256))
