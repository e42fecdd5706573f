"""Read-only advisories (scope ``read``): what the advisory AI said about a failure class or a failure.

Advisories are annotations stored apart from the failures; these routes only read them, with the
target's job in the queue (null: never enqueued). See docs/diagnostics.md, "Advisory AI".
"""

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from sigma_aetl.core.advisories import AdvisoryList, AdvisoryTarget
from sigma_aetl.http.problems import problem
from sigma_aetl.http.responses import json_response
from sigma_aetl.http.routes.diagnosis import CLASS_ID
from sigma_aetl.ingest.gateway import Gateway
from sigma_aetl.stores import Store

router = APIRouter(tags=["diagnostics"])


def _store(request: Request) -> Store:
    gateway: Gateway = request.app.state.gateway
    return gateway.store


def _listed(store: Store, target: AdvisoryTarget) -> AdvisoryList:
    return AdvisoryList(
        target=target, job=store.get_advisory_job(target), items=store.list_advisories(target)
    )


@router.get(
    "/v1/failure-classes/{class_id}/advisories",
    response_model=AdvisoryList,
    summary="A failure class's advisories from the advisory AI, newest first, and its job in the queue",
)
async def class_advisories(class_id: str, request: Request) -> Response:
    """The class's advisories (advisory only: they decide nothing), or 404 for an id that is not a class
    id. A class with no advisory yet lists none; `job` says whether it is queued."""
    if not CLASS_ID.fullmatch(class_id):
        return problem(
            404,
            f"{class_id!r} is not a failure class id (cls_ and 32 hex digits).",
            instance=request.url.path,
        )
    target = AdvisoryTarget(kind="class", id=class_id)
    return json_response(await run_in_threadpool(_listed, _store(request), target))


@router.get(
    "/v1/failures/{failure_id}/advisories",
    response_model=AdvisoryList,
    summary="A failure's own advisories (requested with `sigma-aetl advisor request`), newest first",
)
async def failure_advisories(failure_id: str, request: Request) -> Response:
    """The failure's advisories, or 404 when no failure has that id."""
    store = _store(request)
    if await run_in_threadpool(store.get_failure, failure_id) is None:
        return problem(404, f"No failure record has id {failure_id!r}.", instance=request.url.path)
    target = AdvisoryTarget(kind="failure", id=failure_id)
    return json_response(await run_in_threadpool(_listed, store, target))
