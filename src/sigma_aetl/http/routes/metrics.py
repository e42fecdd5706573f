"""``GET /metrics``: the gateway's Prometheus metrics, in the text format (see docs/observability.md)."""

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from sigma_aetl.http.problems import problem
from sigma_aetl.ingest.metrics import CONTENT_TYPE, Metrics

router = APIRouter(tags=["metrics"])

_TEXT = {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "Prometheus text format."}


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: _TEXT},
)
async def metrics(request: Request) -> Response:
    """Every series of this gateway in the Prometheus text format, version 0.0.4; 404 when metrics are
    turned off (``SIGMA_AETL_METRICS_ENABLED=false``). Needs the ``read`` scope once keys exist
    (Prometheus sends the key as a bearer token)."""
    found: Metrics | None = request.app.state.metrics
    if found is None:
        return problem(404, "Metrics are turned off (SIGMA_AETL_METRICS_ENABLED=false).", instance="/metrics")
    body = await run_in_threadpool(found.exposition)  # the queue-depth gauge reads the committer
    return Response(body, media_type=CONTENT_TYPE)
