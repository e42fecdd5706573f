"""``create_app(settings)``: the FastAPI application over one gateway.

The gateway (contracts, store, pipeline) is opened when the app is created, so a broken contract or an
unreachable store stops start-up with a clear message instead of failing the first request.
"""

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from sigma_aetl import __version__, logs
from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core.refs import parse_ref
from sigma_aetl.errors import ConfigError, StoreError
from sigma_aetl.http import openapi, problems
from sigma_aetl.http.auth import OPENAPI_RESPONSES, Authentication, KeyCache, document_security
from sigma_aetl.http.fastpath import FastPath
from sigma_aetl.http.handlers import DefaultContract, Ingestor
from sigma_aetl.http.hosts import AllowedHosts, HostCheck
from sigma_aetl.http.reloading import ContractReloading
from sigma_aetl.http.requestid import RequestIds
from sigma_aetl.http.requestpath import RequestHook, RequestPath
from sigma_aetl.http.routes import (
    advisories,
    alerts,
    analytics,
    classes,
    contracts,
    diagnosis,
    health,
    ingest,
    metrics,
    query,
    replays,
    validate,
)
from sigma_aetl.http.ui import routes as ui
from sigma_aetl.ingest import flood
from sigma_aetl.ingest.advisory_metrics import AdvisoryQueueCollector
from sigma_aetl.ingest.flood import FloodMonitor
from sigma_aetl.ingest.gateway import Gateway
from sigma_aetl.ingest.groupcommit import GroupCommitter
from sigma_aetl.ingest.metrics import Metrics
from sigma_aetl.ingest.reload import ContractReloader
from sigma_aetl.ingest.replay_jobs import ReplayJobs
from sigma_aetl.settings import Settings

_log = logs.get("http")

_DESCRIPTION = """\
A contract-first ingestion gateway. Every event is checked against an explicit, versioned, immutable data
contract. Valid events are stored exactly once; invalid events become failure records with every error,
a root cause, the raw bytes and the transport metadata. Nothing is repaired, guessed or dropped.
"""


class GatewayApp(FastAPI):
    """The FastAPI application behind the gateway's request path (``requestpath.py``).

    Every request enters :attr:`request_path` first: hooks, then the fast path, then FastAPI itself.
    Starlette middleware would run inside FastAPI only, so the fast path would skip it: adding one is
    refused (:meth:`add_middleware`), and so is starting with one added some other way.
    """

    request_path: RequestPath | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Every request enters the request path (hooks, fast path, FastAPI)."""
        if self.request_path is None:  # not assembled by create_app: a plain FastAPI app
            await self.framework(scope, receive, send)
        else:
            await self.request_path(scope, receive, send)

    async def framework(self, scope: Scope, receive: Receive, send: Send) -> None:
        """FastAPI itself: its middleware, routing, handlers and problem details."""
        await super().__call__(scope, receive, send)

    def openapi(self) -> dict[str, Any]:
        """FastAPI's OpenAPI document, with the API-key schemes on every guarded route (``auth.py``)."""
        if self.openapi_schema is None:
            document_security(super().openapi())
        return super().openapi()

    def add_middleware(self, middleware_class: Any, *args: Any, **kwargs: Any) -> None:
        """Refused: see the class docstring."""
        raise ConfigError(_middleware_refused(getattr(middleware_class, "__name__", repr(middleware_class))))

    def refuse_middleware(self) -> None:
        """Raise ConfigError if Starlette middleware was added behind :meth:`add_middleware`'s back."""
        if self.user_middleware:
            names = ", ".join(getattr(m.cls, "__name__", repr(m.cls)) for m in self.user_middleware)
            raise ConfigError(_middleware_refused(names))


def _middleware_refused(name: str) -> str:
    return (
        f"Starlette middleware {name} is refused: the fast path answers POST /api/validate and "
        "POST /v1/ingest before FastAPI, so middleware would silently skip them. Write a request hook "
        "(sigma_aetl.http.requestpath.RequestHook) and pass it to create_app(hooks=[...]): hooks run for "
        "every route."
    )


def create_app(
    settings: Settings,
    gateway: Gateway | None = None,
    *,
    fast_path: bool = True,
    hooks: Sequence[RequestHook] = (),
) -> GatewayApp:
    """The HTTP application; opens a gateway from ``settings`` unless one is given (and then owns it).

    ``hooks`` run for every HTTP request, in order, after the request id (``requestid.py``), the Host
    check (``hosts.py``; ConfigError for a non-loopback ``host`` with no ``allowed_hosts``) and
    authentication (``auth.py``: so no hook and no route is ever reached without a key once one exists).
    ``fast_path`` answers the two hot routes before FastAPI is entered (see ``fastpath.py``); off,
    FastAPI's declared routes serve them with the same handlers and the same hooks.
    """
    allowed = AllowedHosts.of_setting(settings.allowed_hosts, settings.host)  # before anything is opened
    host_hooks: tuple[RequestHook, ...] = () if allowed is None else (HostCheck(allowed),)
    owned = gateway is None
    gw = gateway or Gateway.open(settings)
    default_contract = DefaultContract.resolve(gw.registry, settings.default_contract)
    auth = authentication(settings, gw)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        app.refuse_middleware()
        if default_contract.contract is None and default_contract.setting is not None:
            _log.warning(
                "gateway.default_contract_not_loaded",
                default_contract=default_contract.setting,
                effect="POST /api/validate answers 404 until SIGMA_AETL_DEFAULT_CONTRACT names a loaded "
                "contract (or serve --default-contract NAME@VERSION)",
            )
        await warn_if_open(auth)
        reloader = ContractReloader(settings.contracts_dir, gw.registry)
        app.state.reloader = reloader

        def install(registry: Registry) -> None:  # on the event loop: no request sees half of it
            contract = DefaultContract.resolve(registry, settings.default_contract)
            gw.swap_registry(registry)
            app.state.default_contract = contract
            if app.request_path is not None and app.request_path.fast_path is not None:
                app.request_path.fast_path.default_contract = contract

        _log.info(
            "gateway.ready",
            contracts=[contract.ref for contract in gw.registry.all()],
            registry=gw.registry.digest,
            store=settings.store_url_redacted,
            default_contract=default_contract.contract and default_contract.contract.ref,
        )
        async with ContractReloading(reloader, install, settings.contracts_watch_interval):
            yield
        await committer.aclose()  # store what is queued before the store closes
        await asyncio.to_thread(app.state.replays.close)  # replays stop after their batch in flight
        if app.state.flood is not None:
            await asyncio.to_thread(app.state.flood.close)  # the queued alerts saved (and posted)
        if owned:
            gw.close()

    # No trailing-slash redirects: Starlette builds their Location from the request's Host header.
    app = GatewayApp(
        title="SIGMA-AETL",
        version=__version__,
        description=_DESCRIPTION,
        lifespan=lifespan,
        redirect_slashes=False,
    )
    committer = GroupCommitter(gw.pipeline)
    ingestor = Ingestor(gw, committer)
    app.state.gateway = gw
    app.state.committer = committer
    app.state.ingestor = ingestor
    app.state.metrics = instrument(settings, gw, committer)
    app.state.flood = guard(gw, app.state.metrics)
    app.request_path = RequestPath(
        app.framework,
        FastPath(ingestor, default_contract) if fast_path else None,
        (RequestIds(), *host_hooks, auth, *hooks),
    )
    app.state.default_contract = default_contract
    problems.install(app)
    openapi.install(app)
    app.state.replays = ReplayJobs(settings, lambda: gw.registry, gw.store)
    for module in (
        validate,
        ingest,
        query,
        contracts,
        classes,
        analytics,
        diagnosis,
        advisories,
        replays,
        alerts,
        metrics,
    ):
        app.include_router(module.router, responses=OPENAPI_RESPONSES)
    app.include_router(health.router)  # never guarded
    app.include_router(ui.router)  # the dashboard, /ui: HTML pages, left out of the OpenAPI document
    return app


def instrument(settings: Settings, gateway: Gateway, committer: GroupCommitter) -> Metrics | None:
    """The app's metrics (``ingest/metrics.py``), fed by the gateway's pipeline and committer; None when
    ``metrics_enabled`` is off."""
    if not settings.metrics_enabled:
        gateway.pipeline.observer = None
        return None
    found = Metrics("http")
    gateway.pipeline.observer = found.observer
    found.watch_queue(committer.queued)
    found.register(AdvisoryQueueCollector(gateway.store))
    return found


def guard(gateway: Gateway, metrics: Metrics | None) -> FloodMonitor | None:
    """The flood guard the settings ask for (``ingest/flood.py``), fed by the gateway's pipeline beside
    the metrics; it alerts only (the gateway pauses nothing). None when no threshold is set."""
    return flood.attach(gateway, "http", metrics)


def authentication(settings: Settings, gateway: Gateway) -> Authentication:
    """The authentication hook over the gateway's store, its cache bounded by ``auth_cache_seconds``."""
    default = parse_ref(settings.default_contract).name if settings.default_contract else None
    return Authentication(KeyCache(gateway.store, settings.auth_cache_seconds), default)


async def warn_if_open(auth: Authentication) -> None:
    """Log a warning when no API key exists: the gateway then serves anyone who reaches it."""
    try:
        closed = await auth.cache.closed()
    except StoreError as exc:  # the store is down: every request answers 503 until it is back
        _log.warning("gateway.keys_unknown", error=str(exc))
        return
    if not closed:
        _log.warning(
            "gateway.open",
            effect="no API key exists, so every endpoint answers without one; create one with "
            "`sigma-aetl keys create --name NAME --scope SCOPE` to require keys (see docs/security.md)",
        )
