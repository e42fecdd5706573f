"""Liveness and readiness."""

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from sigma_aetl.errors import StoreError
from sigma_aetl.http.problems import problem, store_failure
from sigma_aetl.http.responses import json_response
from sigma_aetl.ingest.gateway import Gateway
from sigma_aetl.ingest.reload import ContractReloader

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is alive")
async def healthz() -> Response:
    """Always 200 while the process serves requests."""
    return json_response({"status": "ok"})


@router.get("/readyz", summary="The gateway can take events")
async def readyz(request: Request) -> Response:
    """200 when contracts are loaded and the store answers; 503 problem details otherwise.

    The body names the registry serving (its digest) and the latest contract reload, if any: a refused
    reload leaves the gateway ready (the contracts already loaded keep serving) and shows why here.
    """
    gateway: Gateway = request.app.state.gateway
    try:
        await run_in_threadpool(gateway.store.ping)
    except StoreError as exc:
        store_failure(exc, "/readyz")  # logged; its text is not for whoever probes
        return problem(503, "The store is not available.", instance="/readyz")
    body: dict[str, object] = {
        "status": "ready",
        "contracts": len(gateway.registry),
        "registry": gateway.registry.digest,
    }
    reloader: ContractReloader | None = getattr(request.app.state, "reloader", None)
    if reloader is not None and reloader.last is not None:
        body["reload"] = reloader.last.as_json()
    return json_response(body)
