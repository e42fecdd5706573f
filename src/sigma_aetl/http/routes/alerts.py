"""Flood-guard alerts (scope ``read``): what the guards of every process on the store raised, newest first.

An alert never changed a decision; it says a contract (or a Kafka partition) crossed a threshold, and what
the guard did (``alerted``, or ``paused`` the partition). See docs/observability.md, "Flood guard".
"""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, Field

from sigma_aetl.core.alerts import Alert
from sigma_aetl.http.responses import json_response
from sigma_aetl.ingest.gateway import Gateway

router = APIRouter(tags=["observability"])
MAX_LIMIT = 1000
"""Most alerts one answer lists."""


class AlertList(BaseModel):
    """Alerts, newest first."""

    items: list[Alert] = Field(description="The alerts raised at or after `since`, newest first.")


@router.get("/v1/alerts", response_model=AlertList, summary="Flood-guard alerts, newest first")
async def list_alerts(
    request: Request,
    since: Annotated[
        datetime | None,
        Query(description="Only alerts raised at or after this instant (RFC 3339); all when absent."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Most alerts listed.")] = 100,
) -> Response:
    """The alerts raised at or after `since`, newest first, at most `limit`; a malformed `since` or a
    `limit` out of range is a 422 problem."""
    gateway: Gateway = request.app.state.gateway
    found = await run_in_threadpool(gateway.store.list_alerts, since, limit)
    return json_response(AlertList(items=found))
