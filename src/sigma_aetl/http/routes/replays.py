"""Replays (scope ``admin``): start one as a background job, follow its progress, list them.

See docs/replay.md. ``POST /v1/replays`` checks the target and answers 202 once the run is stored, with its
``Location``; the job runs in a thread of its own (``ingest/replay_jobs.py``), never on the event loop.
"""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from sigma_aetl.errors import ReplayRefused
from sigma_aetl.http.problems import problem
from sigma_aetl.http.responses import json_response
from sigma_aetl.ingest.gateway import Gateway
from sigma_aetl.ingest.replay import ReplayRequest
from sigma_aetl.ingest.replay_jobs import ReplayJobs
from sigma_aetl.stores.base import MAX_INTEGER, MAX_PAGE, ReplayRun, with_stall

router = APIRouter(tags=["replays"])


def _gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


def _jobs(request: Request) -> ReplayJobs:
    jobs: ReplayJobs = request.app.state.replays
    return jobs


@router.post(
    "/v1/replays",
    status_code=202,
    response_model=ReplayRun,
    summary="Start a replay of stored failures into a target version (a background job)",
)
async def start_replay(body: ReplayRequest, request: Request) -> Response:
    """Re-judge the selected failures' raw bytes against ``to``; those that pass become its records, with
    lineage, and their failures get a resolution. Answers 202 with the run (state ``running``) and its
    ``Location``; 422 when the target is unknown, a draft (without ``allow_draft``) or an edited release."""
    try:
        run = await run_in_threadpool(_jobs(request).start, body)
    except ReplayRefused as exc:
        error = {"loc": ["body", "to"], "msg": str(exc), "type": "replay_refused"}
        return problem(422, f"{exc}.", instance=request.url.path, errors=[error])
    response = json_response(run, status=202)
    response.headers["location"] = f"/v1/replays/{run.replay_id}"
    return response


@router.get("/v1/replays", response_model=list[ReplayRun], summary="Replays, the latest started first")
async def list_replays(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_INTEGER)] = 0,
) -> Response:
    """One page of replay runs, each with its state, progress and summary."""
    runs = await run_in_threadpool(_gateway(request).store.list_replays, limit, offset)
    now = datetime.now(UTC)
    return json_response([with_stall(run, now).model_dump(mode="json") for run in runs])


@router.get("/v1/replays/{replay_id}", response_model=ReplayRun, summary="One replay: progress and summary")
async def get_replay(replay_id: str, request: Request) -> Response:
    """The run (``stalled`` when it says running but its process stopped storing progress), or 404."""
    run = await run_in_threadpool(_gateway(request).store.get_replay, replay_id)
    if run is None:
        return problem(404, f"No replay has id {replay_id!r}.", instance=request.url.path)
    return json_response(with_stall(run, datetime.now(UTC)))
