"""``create_app(settings)``: the FastAPI application over one gateway.

The gateway (contracts, store, pipeline) is opened when the app is created, so a broken contract or an
unreachable store stops start-up with a clear message instead of failing the first request.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from sigma_aetl import __version__, logs
from sigma_aetl.http import problems
from sigma_aetl.http.fastpath import FastPath
from sigma_aetl.http.handlers import Ingestor
from sigma_aetl.http.routes import contracts, health, ingest, query, validate
from sigma_aetl.ingest.gateway import Gateway
from sigma_aetl.ingest.groupcommit import GroupCommitter
from sigma_aetl.settings import Settings

_log = logs.get("http")

_DESCRIPTION = """\
A contract-first ingestion gateway. Every event is checked against an explicit, versioned, immutable data
contract. Valid events are stored exactly once; invalid events become failure records with every error,
a root cause, the raw bytes and the transport metadata. Nothing is repaired, guessed or dropped.
"""


class GatewayApp(FastAPI):
    """The FastAPI application; the two hot routes are answered before FastAPI is entered (fastpath.py)."""

    fast_path: FastPath | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.fast_path is None or not await self.fast_path.answer(scope, receive, send):
            await super().__call__(scope, receive, send)


def create_app(settings: Settings, gateway: Gateway | None = None, *, fast_path: bool = True) -> GatewayApp:
    """The HTTP application; opens a gateway from ``settings`` unless one is given (and then owns it).

    ``fast_path`` answers the two hot routes before FastAPI is entered (see ``fastpath.py``); off,
    FastAPI's declared routes serve them with the same handlers.
    """
    owned = gateway is None
    gw = gateway or Gateway.open(settings)
    try:
        default_contract = gw.registry.require(settings.default_contract)
    except BaseException:
        if owned:
            gw.close()
        raise

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        _log.info(
            "gateway.ready",
            contracts=[contract.ref for contract in gw.registry.all()],
            store=settings.store_url_redacted,
            default_contract=default_contract.ref,
        )
        yield
        await committer.aclose()  # store what is queued before the store closes
        if owned:
            gw.close()

    app = GatewayApp(title="SIGMA-AETL", version=__version__, description=_DESCRIPTION, lifespan=lifespan)
    committer = GroupCommitter(gw.pipeline, max_events=settings.batch_size)
    ingestor = Ingestor(gw, committer)
    app.state.gateway = gw
    app.state.committer = committer
    app.state.ingestor = ingestor
    if fast_path:
        app.fast_path = FastPath(ingestor, default_contract)
    app.state.default_contract = default_contract
    problems.install(app)
    for module in (validate, ingest, query, contracts, health):
        app.include_router(module.router)
    return app
