"""Liveness and readiness."""

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from sigma_aetl.errors import StoreError
from sigma_aetl.http.problems import problem
from sigma_aetl.http.responses import json_response
from sigma_aetl.ingest.gateway import Gateway

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is alive")
async def healthz() -> Response:
    """Always 200 while the process serves requests."""
    return json_response({"status": "ok"})


@router.get("/readyz", summary="The gateway can take events")
async def readyz(request: Request) -> Response:
    """200 when contracts are loaded and the store answers; 503 problem details otherwise."""
    gateway: Gateway = request.app.state.gateway
    try:
        await run_in_threadpool(gateway.store.ping)
    except StoreError as exc:
        return problem(503, f"The store is not available: {exc}", instance="/readyz")
    return json_response({"status": "ready", "contracts": len(gateway.registry)})
