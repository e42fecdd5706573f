"""``POST /v1/ingest/{contract}/{version}``: validate and store one event or a batch."""

import asyncio

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from sigma_aetl.core.envelope import Envelope
from sigma_aetl.gateway import Gateway
from sigma_aetl.groupcommit import GroupCommitter
from sigma_aetl.http.body import TooLarge, read_body
from sigma_aetl.http.envelopes import RequestInfo, envelope, is_batch, request_info, split_batch
from sigma_aetl.http.problems import problem
from sigma_aetl.http.responses import json_response
from sigma_aetl.http.schemas import BatchResult, BatchSummary
from sigma_aetl.pipeline import Outcome

router = APIRouter(tags=["ingest"])

_BODY_DOC = {
    "requestBody": {
        "description": "One JSON event, or a batch: a JSON array of events, or NDJSON "
        "(`Content-Type: application/x-ndjson`). Bytes are kept exactly as sent.",
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
    "writes nothing new (`duplicate: true`). Send `Idempotency-Key` to name an event yourself.",
    openapi_extra=_BODY_DOC,
)
async def ingest(contract: str, version: str, request: Request) -> Response:
    """Validate and store what the request carries."""
    gateway: Gateway = request.app.state.gateway
    info = request_info(request)
    body = await read_body(request, gateway.settings.max_request_bytes)
    if isinstance(body, TooLarge):
        return await _too_large(gateway, info, body, contract, version)
    committer: GroupCommitter = request.app.state.committer
    if not is_batch(request, body):
        single = envelope(info, body, contract, version)
        outcomes = await asyncio.wrap_future(committer.submit([single]))
        return json_response(outcomes[0])
    raws = split_batch(request, body)
    envelopes = [envelope(info, raw, contract, version, index=i) for i, raw in enumerate(raws)]
    results = await _store_all(committer, envelopes, gateway.settings.batch_size)
    return json_response(BatchResult(results=results, summary=BatchSummary.of(results)))


async def _store_all(committer: GroupCommitter, envelopes: list[Envelope], size: int) -> list[Outcome]:
    """Submit a large batch in transaction-sized parts; answer once every part is stored."""
    parts = [committer.submit(envelopes[start : start + size]) for start in range(0, len(envelopes), size)]
    stored = await asyncio.gather(*(asyncio.wrap_future(part) for part in parts))
    return [outcome for part in stored for outcome in part]


async def _too_large(
    gateway: Gateway, info: RequestInfo, body: TooLarge, contract: str, version: str
) -> Response:
    limit = gateway.settings.max_request_bytes
    oversized = envelope(info, body.prefix, contract, version)
    outcome = await run_in_threadpool(gateway.pipeline.process_oversized, oversized, body.size, limit)
    return problem(
        413,
        f"The request body exceeds {limit} bytes. A failure record keeps its first bytes; "
        "split the batch or send smaller events.",
        instance=info.metadata["path"],
        failure_id=outcome.failure_id,
        limit=limit,
    )
