"""Failure analytics over time, from the stores' per-minute roll-ups (docs/observability.md).

    GET /v1/analytics/failures        failures per bucket, grouped by root cause, field, version,
                                      producer or class (the largest ``limit`` groups, the rest `other`)
    GET /v1/analytics/traffic         accepted and failed per contract version and bucket, per producer
    GET /v1/analytics/new-classes     failure classes first seen in the window
    GET /v1/analytics/stale-versions  versions with traffic in the window though a newer one is released

Scope ``read``. The window is ``[since, until)``: ``until`` defaults to now, ``since`` to 24 hours before
``until``; a window of more than ``MAX_BUCKETS`` buckets, ``until`` not after ``since``, a ``version``
without its ``contract`` or any parameter out of range is a 422 problem. A reader without ``read:raw``
sees ``client:`` producer labels (a client address) counted together as ``client:(masked)``, exactly as
the classes route shows them.
"""

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, Field, ValidationError

from sigma_aetl.contracts.lock import ReleaseState
from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core import serial
from sigma_aetl.core.analytics import (
    MAX_GROUPS,
    OTHER,
    AnalyticsWindow,
    Bucket,
    FailureAnalytics,
    FailureAnalyticsQuery,
    FailureGroup,
    ProducerTraffic,
    Series,
    StaleVersion,
    TrafficAnalytics,
    ratio,
    stale_versions,
)
from sigma_aetl.core.classes import FailureClass
from sigma_aetl.http.auth import reveals_raw
from sigma_aetl.http.masking import MASKED_CLIENT
from sigma_aetl.http.problems import problem
from sigma_aetl.http.responses import json_response
from sigma_aetl.http.routes.classes import masked_class
from sigma_aetl.ingest.gateway import Gateway
from sigma_aetl.stores.base import MAX_INTEGER

router = APIRouter(tags=["analytics"])
W = TypeVar("W", bound=AnalyticsWindow)
DEFAULT_SPAN = timedelta(hours=24)
"""The window when ``since`` is not given: the 24 hours before ``until``."""
MAX_NEW_CLASSES = 500


class SpanParams(BaseModel):
    """The time span of an analytics request (RFC 3339 instants; a naive one is taken as UTC)."""

    since: datetime | None = Field(default=None, description="Start (inclusive); default: until - 24 h.")
    until: datetime | None = Field(default=None, description="End (exclusive); default: now.")


class WindowParams(SpanParams):
    """The window of an analytics request: its span, buckets and contract filter."""

    bucket: Bucket = Field(default="hour", description="Width of one bucket.")
    contract: str | None = Field(default=None, description="Only this contract (as addressed).")
    version: int | None = Field(
        default=None, ge=1, le=MAX_INTEGER, description="Only this version (with `contract`)."
    )


class FailureParams(WindowParams):
    """A failures request: its window, and how to group."""

    group_by: FailureGroup = Field(default="root_cause", description="What one series counts.")
    limit: int = Field(default=10, ge=1, le=MAX_GROUPS, description="Groups named; the rest are `other`.")


class NewClassParams(SpanParams):
    """A new-classes request."""

    limit: int = Field(default=50, ge=1, le=MAX_NEW_CLASSES, description="Most classes answered.")


class NewClasses(BaseModel):
    """Failure classes first seen in a window, most recent first."""

    since: datetime
    until: datetime
    items: list[FailureClass]


class StaleVersions(BaseModel):
    """Versions still receiving traffic in a window although a newer version is released."""

    since: datetime
    until: datetime
    versions: list[StaleVersion]


def _gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


def _reveals_raw(request: Request) -> bool:
    exchange = getattr(request.state, "exchange", None)
    return exchange is None or reveals_raw(exchange.state)


def bounds(since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    """The window's ends with their defaults (until: now; since: 24 hours before until), in UTC."""
    end = _utc(until) if until is not None else datetime.now(UTC)
    return (_utc(since) if since is not None else end - DEFAULT_SPAN), end


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class _Invalid(Exception):
    """Parameters that each pass but do not make a window together (a 422)."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("invalid window")
        self.errors = errors


def _window(kind: type[W], params: WindowParams, **extra: Any) -> W:
    """The store's query from the request's parameters; raises _Invalid."""
    if params.version is not None and params.contract is None:
        raise _Invalid([_error("version", "a version needs its contract", "missing_contract")])
    try:
        since, until = bounds(params.since, params.until)
        window = {"since": since, "until": until, "bucket": params.bucket, **extra}
        return kind(**window, contract=params.contract, version=params.version)
    except OverflowError:  # an instant so near year 1 or 9999 that the window's arithmetic leaves the range
        raise _Invalid(
            [_error("since", "the window reaches beyond the years 1-9999", "out_of_range")]
        ) from None
    except ValidationError as exc:
        errors = [_error("window", e["msg"].removeprefix("Value error, "), e["type"]) for e in exc.errors()]
        raise _Invalid(errors) from None


def _error(name: str, message: str, kind: str) -> dict[str, Any]:
    return {"loc": ["query", name], "msg": message, "type": kind}


def _unprocessable(request: Request, invalid: _Invalid) -> Response:
    detail = "The request parameters are invalid."
    return problem(422, detail, instance=request.url.path, errors=invalid.errors)


@router.get(
    "/v1/analytics/failures",
    response_model=FailureAnalytics,
    summary="Failures per time bucket, grouped by root cause, field, contract version, producer or class",
)
async def failures(request: Request, params: Annotated[FailureParams, Query()]) -> Response:
    """Counts of stored failures per bucket and group over ``[since, until)``; the same cost with 100
    events stored or 10 million (they come from per-minute roll-ups kept as failures are written)."""
    try:
        query = _window(FailureAnalyticsQuery, params, group_by=params.group_by, limit=params.limit)
    except _Invalid as invalid:
        return _unprocessable(request, invalid)
    answer = await run_in_threadpool(_gateway(request).store.failure_analytics, query)
    if query.group_by == "producer" and not _reveals_raw(request):
        answer = masked_failures(answer)
    return json_response(answer)


@router.get(
    "/v1/analytics/traffic",
    response_model=TrafficAnalytics,
    summary="Accepted and failed events per contract version over time, and per producer",
)
async def traffic(request: Request, params: Annotated[WindowParams, Query()]) -> Response:
    """Accepted records and failures (as addressed) per contract version and bucket, with the acceptance
    ratio and the last minute seen; and per producer label, the most events first."""
    try:
        window = _window(AnalyticsWindow, params)
    except _Invalid as invalid:
        return _unprocessable(request, invalid)
    answer = await run_in_threadpool(_gateway(request).store.traffic_analytics, window)
    return json_response(answer if _reveals_raw(request) else masked_traffic(answer))


@router.get(
    "/v1/analytics/new-classes",
    response_model=NewClasses,
    summary="Failure classes first seen in a window, most recent first",
)
async def new_classes(request: Request, params: Annotated[NewClassParams, Query()]) -> Response:
    """The classes whose first failure was received in ``[since, until)``: a new kind of problem."""
    try:
        since, until = bounds(params.since, params.until)
    except OverflowError:
        since = until = datetime.min.replace(tzinfo=UTC)
    if until <= since:
        invalid = _Invalid(
            [_error("until", "until must be after since, within the years 1-9999", "value_error")]
        )
        return _unprocessable(request, invalid)
    found = await run_in_threadpool(_gateway(request).store.new_classes, since, until, params.limit)
    shown = [serial.jsonable(item) if _reveals_raw(request) else masked_class(item) for item in found]
    return json_response({"since": serial.jsonable(since), "until": serial.jsonable(until), "items": shown})


@router.get(
    "/v1/analytics/stale-versions",
    response_model=StaleVersions,
    summary="Contract versions still receiving traffic although a newer version is released",
)
async def stale(request: Request, params: Annotated[SpanParams, Query()]) -> Response:
    """Each version with accepted or failed events in the window below the newest released version of its
    contract (from the registry the gateway serves), with its events and last minute seen."""
    try:
        asked = WindowParams(since=params.since, until=params.until, bucket="day")
        window = _window(AnalyticsWindow, asked)
    except _Invalid as invalid:
        return _unprocessable(request, invalid)
    gateway = _gateway(request)
    answer = await run_in_threadpool(gateway.store.traffic_analytics, window)
    found = StaleVersions(
        since=window.since, until=window.until, versions=stale_versions(answer, released(gateway.registry))
    )
    return json_response(found)


def released(registry: Registry) -> dict[str, list[int]]:
    """The released versions of each contract (a draft is not a newer version yet)."""
    found: dict[str, list[int]] = {}
    for contract in registry.all():
        if registry.state(contract) is not ReleaseState.DRAFT:
            found.setdefault(contract.name, []).append(contract.version)
    return found


def masked_failures(answer: FailureAnalytics) -> FailureAnalytics:
    """Producer series with every ``client:`` label summed into one ``client:(masked)`` series."""
    kept: dict[str, list[int]] = {}
    other: list[Series] = []
    for series in answer.series:
        if series.group == OTHER:
            other.append(series)
            continue
        group = MASKED_CLIENT if series.group.startswith("client:") else series.group
        found = kept.setdefault(group, [0] * len(series.counts))
        kept[group] = [a + b for a, b in zip(found, series.counts, strict=True)]
    named = [Series(group=g, total=sum(c), counts=c) for g, c in kept.items()]
    named.sort(key=lambda s: (-s.total, s.group))
    return answer.model_copy(update={"series": [*named, *other]})


def masked_traffic(answer: TrafficAnalytics) -> TrafficAnalytics:
    """The traffic with every ``client:`` producer summed into one ``client:(masked)`` producer."""
    summed: dict[str, list[int]] = {}
    for row in answer.producers:
        label = MASKED_CLIENT if row.producer.startswith("client:") else row.producer
        found = summed.setdefault(label, [0, 0])
        found[0] += row.accepted
        found[1] += row.failed
    producers = [
        ProducerTraffic(producer=label, accepted=a, failed=f, acceptance_ratio=ratio(a, f))
        for label, (a, f) in sorted(summed.items(), key=lambda item: (-sum(item[1]), item[0]))
    ]
    return answer.model_copy(update={"producers": producers})
