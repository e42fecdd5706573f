"""``POST /v1/ingest/{contract}/{version}``: validate and store one event or a batch.

Requests are answered by the ASGI fast path; this declaration documents the route in OpenAPI and serves
the same handler if the fast path is not installed.
"""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from sigma_aetl.http.address import addressed
from sigma_aetl.http.body import BodyLimits, read_body
from sigma_aetl.http.handlers import Ingestor
from sigma_aetl.http.reply import reply_response
from sigma_aetl.http.schemas import BatchResult
from sigma_aetl.http.view import RequestView
from sigma_aetl.ingest.outcome import Outcome

router = APIRouter(tags=["ingest"])

_BODY_DOC = {
    "requestBody": {
        "description": "One JSON event, or a batch: a JSON array of events, NDJSON "
        "(`Content-Type: application/x-ndjson`, `application/jsonl`, `application/ndjson`) or an RFC 7464 "
        "JSON text sequence (`application/json-seq`). Any `application/*+json` type is taken as JSON; "
        "any other type, or none, is a 415 problem. Bytes are kept exactly as sent.",
        "required": True,
        "content": {
            "application/json": {"schema": {}},
            "application/x-ndjson": {"schema": {"type": "string"}},
        },
    }
}


@router.post(
    "/v1/ingest/{contract}/{version}",
    response_model=Outcome | BatchResult,
    summary="Validate and store events",
    description="A single event answers with its outcome; a batch with one outcome per event, in order. "
    "A bad event is a FAILED outcome (HTTP 200) stored as a failure record. Sending the same event again "
    "writes nothing new (`duplicate: true`). Send `Idempotency-Key` to name an event yourself. Concurrent "
    "requests share store transactions (group commit); each is answered once its events are stored.",
    openapi_extra=_BODY_DOC,
)
async def ingest(contract: str, version: str, request: Request) -> Response:
    """Validate and store what the request carries."""
    ingestor: Ingestor = request.app.state.ingestor
    view = RequestView.of_request(request)
    limits = BodyLimits.of(ingestor.gateway.settings)
    body = await read_body(request.stream(), limits, view.declared_size)
    name, number = addressed(request.scope, contract, version)
    return reply_response(await ingestor.ingest(view, name, number, body))
