"""``sigma-aetl serve``: the HTTP gateway under uvicorn.

The order matters: the port is bound first (a port in use fails at once: exit 2, nothing opened or
created), then the gateway is opened (contracts, lock, store), then the socket listens and uvicorn serves
on it. Exit codes: 0 stopped by SIGINT (SIGTERM ends the process by the signal itself, once the shutdown
is done: uvicorn raises it again, status 143), 2 could not start, 3 uvicorn could not start the application
after that (its own code; the log says why).
"""

import logging
import socket
from contextlib import closing, suppress
from typing import TYPE_CHECKING, Annotated, Any

import typer
import uvicorn

from sigma_aetl import logs
from sigma_aetl.cli import heap, listen
from sigma_aetl.cli.errors import fail, operational_errors
from sigma_aetl.cli.params import ContractRef, WatchContractsOption, parse_ref, setting_help
from sigma_aetl.cli.state import settings_of
from sigma_aetl.ingest.gateway import Gateway
from sigma_aetl.settings import Settings

if TYPE_CHECKING:
    from sigma_aetl.advisor.background import BackgroundAdvisor

_PORT_OPTION = "--port or SIGMA_AETL_PORT"


def serve(
    ctx: typer.Context,
    *,
    host: Annotated[
        str | None, typer.Option(metavar="ADDRESS", help=setting_help("Listen address.", "host"))
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(metavar="PORT", min=0, max=65535, help=setting_help("Listen port.", "port")),
    ] = None,
    default_contract: Annotated[
        ContractRef | None,
        typer.Option(
            parser=parse_ref,
            metavar="NAME@VERSION",
            help=setting_help(
                "The contract POST /api/validate checks against; if it is not loaded, serve warns and "
                "that route answers 404.",
                "default_contract",
            ),
        ),
    ] = None,
    watch_contracts: WatchContractsOption = None,
    allow_open: Annotated[
        bool,
        typer.Option(
            "--allow-open",
            help="Serve on a non-loopback address although no API key exists, open to anyone who reaches "
            "it (without it, serve refuses to start there). Env SIGMA_AETL_ALLOW_OPEN.",
        ),
    ] = False,
    max_connections: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            min=1,
            max=1_000_000,
            help=setting_help(
                "Most concurrent connections (and requests); beyond it a request is answered 503.",
                "max_connections",
            ),
        ),
    ] = None,
    allowed_hosts: Annotated[
        str | None,
        typer.Option(
            metavar="NAMES",
            help=setting_help(
                "Host names served, comma-separated (*.example.com: subdomains), or * for any; unset: "
                "localhost names on a loopback host, a refused start on any other.",
                "allowed_hosts",
            ),
        ),
    ] = None,
) -> None:
    """Serve the HTTP API until interrupted; the port is taken and the contracts and the store are opened
    before listening. SIGHUP reloads the contracts (see docs/contracts.md). With SIGMA_AETL_ADVISOR_URL
    set, the advisory AI runs beside it, on its own thread and store handle (see docs/diagnostics.md).

    Once an API key exists (`sigma-aetl keys create`), every endpoint but /healthz and /readyz needs one.
    With none, serve warns that the gateway is open, and refuses to start on a non-loopback address unless
    --allow-open (see docs/security.md).

    Exit codes: 0 stopped by SIGINT; 2 could not start (the port is in use, missing or broken contracts, an
    edited release, a store error, open on a non-loopback address), with nothing created; 3 uvicorn could
    not start the application.
    """
    # Imported here so that the other commands never load FastAPI.
    from sigma_aetl.http.app import create_app  # noqa: PLC0415

    given = (
        ("host", host),
        ("port", port),
        ("default_contract", default_contract and str(default_contract)),
        ("contracts_watch_interval", watch_contracts),
        ("allow_open", allow_open or None),
        ("max_connections", max_connections),
        ("allowed_hosts", allowed_hosts),
    )
    overrides = {key: value for key, value in given if value is not None}
    settings = settings_of(ctx).model_copy(update=overrides)
    logs.configure(settings.log_level, settings.log_format)
    sock = listen.bind(settings.host, settings.port, option=_PORT_OPTION)
    with closing(sock):
        with operational_errors(settings):
            app = create_app(settings)
            if not (settings.allow_open or listen.is_loopback(settings.host)):
                refuse_open(settings, app.state.gateway)
        config = uvicorn.Config(app, **uvicorn_options(settings))
        try:
            listen.listen(sock, config.backlog, option=_PORT_OPTION)
        except typer.Exit:
            app.state.gateway.close()  # lost the port to a process started at the same moment
            raise
        heap.settle()
        advisor = _start_advisor(settings)
        try:
            run_server(config, sock)
        finally:
            if advisor is not None:
                advisor.stop()


def _start_advisor(settings: Settings) -> "BackgroundAdvisor | None":
    """The advisory AI on its own thread, loop and store handle, when ``advisor_url`` is set."""
    if settings.advisor_url is None:
        return None
    # Imported here so that serve without an advisor never loads the ollama client.
    from sigma_aetl.advisor.background import BackgroundAdvisor  # noqa: PLC0415

    return BackgroundAdvisor(settings).start()


def refuse_open(settings: Settings, gateway: Gateway) -> None:
    """Exit code 2 (closing the gateway) when no API key exists (serve is then on a non-loopback address
    without ``allow_open``): anyone who reaches the port could send events and read every payload."""
    if gateway.store.has_keys():
        return
    gateway.close()
    fail(
        f"no API key exists, and {settings.host} is not a loopback address: anyone who reaches the port "
        "could send events and read every payload. Create a key first (sigma-aetl keys create --name NAME "
        "--scope SCOPE), serve on 127.0.0.1, or pass --allow-open (SIGMA_AETL_ALLOW_OPEN=true) to serve "
        "open anyway"
    )


def run_server(config: uvicorn.Config, sock: socket.socket) -> None:
    """uvicorn on the listening socket, until a signal stops it."""
    with suppress(KeyboardInterrupt):  # SIGINT raised again once uvicorn has shut down, as uvicorn.run does
        _Server(config).run(sockets=[sock])


class _Server(uvicorn.Server):
    """uvicorn's server, saying where it listens: uvicorn says it only for sockets it bound itself."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and sockets:
            host, port = sockets[0].getsockname()[:2]
            where = f"[{host}]" if ":" in host else host
            message = "Uvicorn running on http://%s:%d (Press CTRL+C to quit)"
            logging.getLogger("uvicorn.error").info(message, where, port)


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options from the settings: where to listen, what to log, which proxies to trust.

    uvicorn's defaults log every request and trust X-Forwarded-For from 127.0.0.1; both are opt-in here
    (measured: together they cost about a fifth of the requests per second on ``POST /api/validate``).
    The protocol bounds request heads (``http/protocol.py``); ``limit_concurrency`` caps connections.
    """
    # Imported here so that the other commands never load the HTTP layer.
    from sigma_aetl.http.protocol import GatewayProtocol  # noqa: PLC0415

    trusted = settings.forwarded_allow_ips
    return {
        "http": GatewayProtocol.limited(settings.max_header_bytes),
        "limit_concurrency": settings.max_connections,
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "log_config": None,  # uvicorn's lines go through the gateway's renderer (logs.py), not its own
        "access_log": settings.access_log,
        "proxy_headers": trusted is not None,
        "forwarded_allow_ips": trusted,
    }
