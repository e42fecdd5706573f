"""The dashboard's router, mounted at ``/ui`` and left out of the OpenAPI document: read-only pages.

::

    GET /ui                          overview: traffic and acceptance per version, top classes, alerts
    GET /ui/classes                  failure classes, paged by links (?contract= &root_cause= &offset=)
    GET /ui/classes/{class_id}       one class: diagnosis, would-pass-as, near misses, drift, advisories
    GET /ui/failures                 failures (?class_id= &root_cause= &contract= &offset=)
    GET /ui/failures/{failure_id}    one failure record: raw payload, errors, transport metadata, lineage
    GET /ui/contracts                every contract version
    GET /ui/contracts/{name}         versions, the diff between two (?from=1&to=2), traffic per version
    GET /ui/static/ui.css            the style sheet (cached for a year)
    GET|POST /ui/login, POST /ui/logout   session.py

Scope ``read`` once keys exist (the authentication hook, ``http/auth.py``, redirects a page request without
a key to the login form). Every page reads the store in a thread; an unknown id is a 404 page, a bad
parameter a 422 page (``params.py``), never a 5xx. Nothing here writes: the only forms are login and logout.
"""

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from sigma_aetl.http.auth import UI, cookie_token, reveals_raw
from sigma_aetl.http.ui import session, views
from sigma_aetl.http.ui.params import BadParameters, DiffParams, ListParams, OverviewParams, Params, parse
from sigma_aetl.http.ui.rendering import error_page, page, stylesheet
from sigma_aetl.ingest.gateway import Gateway

router = APIRouter(include_in_schema=False)
router.include_router(session.router)


def _gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


def _now() -> datetime:
    return datetime.now(UTC)


def _reveals_raw(request: Request) -> bool:
    exchange = getattr(request.state, "exchange", None)
    return exchange is None or reveals_raw(exchange.state)


def _common(request: Request) -> dict[str, Any]:
    """What the layout needs on every page: where it is, whether to offer logout, what is masked."""
    signed_in = cookie_token({"cookie": request.headers.get("cookie", "")}) is not None
    return {"path": request.url.path, "signed_in": signed_in, "reveal": _reveals_raw(request)}


def _params(request: Request, model: type[Params]) -> Params:
    return parse(model, dict(request.query_params))


def _bad(request: Request, exc: BadParameters) -> Response:
    detail = "These query parameters cannot be used:"
    return error_page(422, "Bad parameters", detail, problems=exc.problems, **_common(request))


def _missing(request: Request, detail: str) -> Response:
    return error_page(404, "Not found", detail, problems=[], **_common(request))


@router.get(f"{UI}/static/ui.css")
async def css() -> Response:
    """The style sheet (public: the login form is drawn with it)."""
    return stylesheet()


@router.get(UI)
async def overview(request: Request) -> Response:
    """Events and acceptance per contract version over the window, top classes, alerts, totals."""
    try:
        params = _params(request, OverviewParams)
    except BadParameters as exc:
        return _bad(request, exc)
    store = _gateway(request).store
    context = await run_in_threadpool(views.overview, store, params.window, _now(), _reveals_raw(request))
    return page("overview.html.j2", **context, **_common(request))


@router.get(f"{UI}/classes")
async def classes(request: Request) -> Response:
    """A page of failure classes."""
    try:
        params = _params(request, ListParams)
    except BadParameters as exc:
        return _bad(request, exc)
    store = _gateway(request).store
    context = await run_in_threadpool(views.class_list, store, params, _reveals_raw(request))
    return page("classes.html.j2", **context, **_common(request))


@router.get(f"{UI}/classes/{{class_id}}")
async def failure_class(class_id: str, request: Request) -> Response:
    """One failure class."""
    context = await run_in_threadpool(views.class_detail, _gateway(request), class_id, _reveals_raw(request))
    if context is None:
        return _missing(request, f"No failure class has the id {class_id!r}.")
    return page("class.html.j2", **context, **_common(request))


@router.get(f"{UI}/failures")
async def failures(request: Request) -> Response:
    """A page of failures."""
    try:
        params = _params(request, ListParams)
    except BadParameters as exc:
        return _bad(request, exc)
    context = await run_in_threadpool(views.failure_list, _gateway(request), params)
    return page("failures.html.j2", **context, **_common(request))


@router.get(f"{UI}/failures/{{failure_id}}")
async def failure(failure_id: str, request: Request) -> Response:
    """One failure record."""
    store = _gateway(request).store
    context = await run_in_threadpool(views.failure_detail, store, failure_id, _reveals_raw(request))
    if context is None:
        return _missing(request, f"No failure record has the id {failure_id!r}.")
    return page("failure.html.j2", **context, **_common(request))


@router.get(f"{UI}/contracts")
async def contracts(request: Request) -> Response:
    """Every loaded contract version."""
    context = views.contract_list(_gateway(request).registry)
    return page("contracts.html.j2", **context, **_common(request))


@router.get(f"{UI}/contracts/{{name}}")
async def contract(name: str, request: Request) -> Response:
    """One contract: its versions, a diff, its traffic."""
    try:
        params = _params(request, DiffParams)
    except BadParameters as exc:
        return _bad(request, exc)
    gateway = _gateway(request)
    pair = (params.old, params.new)
    try:
        context = await run_in_threadpool(
            views.contract_detail, gateway.registry, gateway.store, name, pair, _now()
        )
    except KeyError as exc:
        return _missing(request, f"The contract {name!r} has no version {exc.args[0]} loaded.")
    if context is None:
        return _missing(request, f"No contract named {name!r} is loaded.")
    return page("contract.html.j2", **context, **_common(request))


@router.get(f"{UI}/{{rest:path}}")
async def unknown(rest: str, request: Request) -> Response:
    """Any other path under /ui: a 404 page."""
    return _missing(request, f"The dashboard has no page /ui/{rest}.")
