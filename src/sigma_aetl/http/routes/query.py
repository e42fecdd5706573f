"""Read-only queries: records, failures, stats."""

import dataclasses
from typing import Annotated, TypeVar

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel

from sigma_aetl.core import serial
from sigma_aetl.core.records import AcceptedRecord, FailureRecord
from sigma_aetl.errors import InvalidCursor
from sigma_aetl.http.auth import reveals_raw
from sigma_aetl.http.masking import masked_failure, masked_page
from sigma_aetl.http.problems import problem
from sigma_aetl.http.responses import OCTET_STREAM, json_response, raw_response
from sigma_aetl.ingest.gateway import Gateway
from sigma_aetl.stores.base import (
    FailurePage,
    FailureQuery,
    PageBudget,
    RecordPage,
    RecordQuery,
    Resolution,
    Stats,
)

router = APIRouter(tags=["query"])
Listed = TypeVar("Listed", AcceptedRecord, FailureRecord)


def _gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


def _reveals_raw(request: Request) -> bool:
    """Whether the request's key may see raw payloads and headers (see ``masking.py``)."""
    exchange = getattr(request.state, "exchange", None)
    return exchange is None or reveals_raw(exchange.state)


def _budget(gateway: Gateway) -> PageBudget:
    settings = gateway.settings
    return PageBudget(max_bytes=settings.max_page_bytes, max_inline_raw=settings.max_inline_raw_bytes)


def _linked(item: Listed, where: str) -> Listed:
    """``item`` with its omitted raw payload saying where it is served."""
    if item.raw.encoding != "omitted":
        return item
    return dataclasses.replace(item, raw=item.raw.omitted(where))


@router.get(
    "/v1/records",
    response_model=RecordPage,
    summary="Accepted records, filtered, in the store's stream order, with a cursor to resume from",
)
async def list_records(request: Request, query: Annotated[RecordQuery, Query()]) -> Response:
    """One page of accepted records. Pass ``next_cursor`` back (with the same filters) for the next page;
    it is null at the end of what is stored now, and ``resume_cursor`` then continues later with the
    records stored since (see docs/records.md)."""
    gateway = _gateway(request)
    try:
        page = await run_in_threadpool(gateway.store.query_records, query, _budget(gateway))
    except InvalidCursor as exc:
        error = {"loc": ["query", "cursor"], "msg": str(exc), "type": "invalid_cursor"}
        return problem(422, f"The cursor cannot be used: {exc}.", instance=request.url.path, errors=[error])
    items = [_linked(item, f"/v1/records/{item.record_id}/raw") for item in page.items]
    return json_response(page.model_copy(update={"items": items}))


@router.get("/v1/records/{record_id}", response_model=AcceptedRecord, summary="One accepted record")
async def get_record(record_id: str, request: Request) -> Response:
    """The accepted record, or 404; a record a replay wrote carries its `lineage` (`replayed_from`,
    `replay_id`, the target's `fingerprint`: see docs/replay.md)."""
    store = _gateway(request).store
    record = await run_in_threadpool(store.get_record, record_id)
    if record is None:
        return problem(404, f"No accepted record has id {record_id!r}.", instance=request.url.path)
    lineage = await run_in_threadpool(store.lineage, record_id)
    return json_response(record) if lineage is None else _beside(record, lineage=lineage)


@router.get("/v1/failures", response_model=FailurePage, summary="Failure records, filtered, newest first")
async def list_failures(request: Request, query: Annotated[FailureQuery, Query()]) -> Response:
    """One page of failures with the total count matching the filters, bounded in count (``limit``) and in
    bytes (``max_page_bytes``): ``next_offset`` continues it. A raw payload over ``max_inline_raw_bytes``
    is listed ``omitted``, its ``text`` the path that serves it (``GET /v1/failures/{id}/raw``). Without
    the read:raw scope raw payloads and transport headers are masked (see docs/security.md)."""
    gateway = _gateway(request)
    page = await run_in_threadpool(gateway.store.query_failures, query, _budget(gateway))
    items = [_linked(item, f"/v1/failures/{item.failure_id}/raw") for item in page.items]
    linked = page.model_copy(update={"items": items})
    return json_response(linked if _reveals_raw(request) else masked_page(linked))


@router.get(
    "/v1/failures/{failure_id}/raw",
    response_class=Response,
    responses={200: {"content": {OCTET_STREAM: {}}, "description": "The bytes exactly as received."}},
    summary="A failure's raw payload, the bytes exactly as received",
)
async def get_failure_raw(failure_id: str, request: Request) -> Response:
    """The raw bytes of the failure as received (``application/octet-stream``), or 404. For an event kept
    truncated (over the hard body limit), the bytes kept: ``X-Raw-Truncated: true`` and ``X-Raw-Size``."""
    record = await run_in_threadpool(_gateway(request).store.get_failure, failure_id)
    if record is None:
        return problem(404, f"No failure record has id {failure_id!r}.", instance=request.url.path)
    return raw_response(record.raw)


@router.get(
    "/v1/records/{record_id}/raw",
    response_class=Response,
    responses={200: {"content": {OCTET_STREAM: {}}, "description": "The bytes exactly as received."}},
    summary="An accepted record's raw payload, the bytes exactly as received",
)
async def get_record_raw(record_id: str, request: Request) -> Response:
    """The raw bytes of the accepted record as received (``application/octet-stream``), or 404."""
    record = await run_in_threadpool(_gateway(request).store.get_record, record_id)
    if record is None:
        return problem(404, f"No accepted record has id {record_id!r}.", instance=request.url.path)
    return raw_response(record.raw)


@router.get("/v1/failures/{failure_id}", response_model=FailureRecord, summary="One failure record")
async def get_failure(failure_id: str, request: Request) -> Response:
    """The failure record, or 404; raw payload and transport headers masked without read:raw. A failure a
    replay resolved carries its `resolutions` (record id, replay id, when: see docs/replay.md); the
    record itself is never modified."""
    store = _gateway(request).store
    record = await run_in_threadpool(store.get_failure, failure_id)
    if record is None:
        return problem(404, f"No failure record has id {failure_id!r}.", instance=request.url.path)
    shown = record if _reveals_raw(request) else masked_failure(record)
    resolutions = await run_in_threadpool(store.resolutions, failure_id)
    return _beside(shown, resolutions=resolutions) if resolutions else json_response(shown)


def _beside(record: object, **apart: BaseModel | list[Resolution]) -> Response:
    """The record's JSON (a record, or its masked form) with what is kept apart from it — a replay's
    lineage, a failure's resolutions — added as members: a record without them is served as before.
    Spliced as bytes: the record's own JSON is never parsed again (its data may hold huge integers)."""
    body = serial.dumps(record)
    assert body.endswith(b"}")
    members = b"".join(b',"%s":%s' % (name.encode(), _json(value)) for name, value in apart.items())
    return Response(body[:-1] + members + b"}", media_type="application/json")


def _json(value: BaseModel | list[Resolution]) -> bytes:
    if isinstance(value, list):
        return b"[" + b",".join(item.model_dump_json().encode() for item in value) + b"]"
    return value.model_dump_json().encode()


@router.get("/v1/stats", response_model=Stats, summary="Counts per contract version and root cause")
async def stats(request: Request) -> Response:
    """The same object as ``sigma-aetl stats --json``."""
    return json_response(await run_in_threadpool(_gateway(request).store.stats))
