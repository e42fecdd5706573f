"""Every request passes the request hooks, whether the fast path or FastAPI answers it."""

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware

from sigma_aetl.errors import ConfigError
from sigma_aetl.http import create_app
from sigma_aetl.http.auth import Authentication
from sigma_aetl.http.exchange import Exchange
from sigma_aetl.http.hosts import HostCheck
from sigma_aetl.http.reply import Reply, problem_reply
from sigma_aetl.http.requestid import RequestIds
from sigma_aetl.http.requestpath import RequestHook, RequestPath
from sigma_aetl.settings import Settings
from sigma_aetl.testing import INVALID_SHIPMENT, JSON_HEADERS, VALID_SHIPMENT, ServerThread

SettingsFactory = Callable[..., Settings]
REQUESTS = [
    ("POST", "/api/validate", VALID_SHIPMENT),
    ("POST", "/api/validate", INVALID_SHIPMENT),
    ("POST", "/v1/ingest/shipment/1", VALID_SHIPMENT),
    ("POST", "/v1/ingest/shipment/1", INVALID_SHIPMENT),
    ("POST", "/v1/ingest/nope/1", VALID_SHIPMENT),
    ("GET", "/v1/stats", b""),
    ("GET", "/healthz", b""),
    ("GET", "/v1/nothing-here", b""),
]
HEADERS = ("content-type", "content-length", "x-hooked")
FAST = {"/api/validate", "/v1/ingest/shipment/1", "/v1/ingest/nope/1"}


class Recorder:
    """A hook that tags every answer and records what it saw."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, int | None, str | None]] = []
        self.done = threading.Event()

    async def on_request(self, exchange: Exchange) -> Reply | None:
        """Tag the answer; let the request through."""
        exchange.response_headers.append((b"x-hooked", b"yes"))
        exchange.state["tag"] = "recorder"
        return None

    def on_response(self, exchange: Exchange) -> None:
        """Record the request, its status and which layer answered."""
        request = exchange.request
        self.seen.append((request.method, request.path, exchange.status, exchange.layer))
        self.done.set()


class Gate:
    """A hook that answers 401 to every request but the health checks."""

    async def on_request(self, exchange: Exchange) -> Reply | None:
        """Refuse everything except /healthz."""
        if exchange.request.path == "/healthz":
            return None
        return problem_reply(401, "A key is required.", exchange.request.path)

    def on_response(self, exchange: Exchange) -> None:
        """Nothing to do after the answer."""


def _answers(
    settings: Settings, fast_path: bool, hooks: list[RequestHook]
) -> list[tuple[int, dict[str, str], bytes]]:
    with (
        ServerThread(create_app(settings, fast_path=fast_path, hooks=hooks)) as server,
        httpx.Client(base_url=server.url, headers=JSON_HEADERS) as client,
    ):
        answers = []
        for method, path, body in REQUESTS:
            response = client.request(method, path, content=body)
            headers = {
                name: response.headers[name] for name in ("content-type", "content-length", "x-hooked")
            }
            answers.append((response.status_code, headers, response.content))
        return answers


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast-path", "fastapi-routes"])
def test_a_hook_runs_for_every_route_on_both_paths(
    make_settings_for: SettingsFactory, tmp_path: Path, fast_path: bool
) -> None:
    """A hook sees every request, adds its header to every answer, and learns the status and the layer."""
    recorder = Recorder()
    answers = _answers(make_settings_for(store_url=f"sqlite:///{tmp_path}/g.db"), fast_path, [recorder])
    assert all(headers["x-hooked"] == "yes" for _, headers, _ in answers)
    statuses = [status for status, _, _ in answers]
    assert [(method, path) for method, path, _, _ in recorder.seen] == [(m, p) for m, p, _ in REQUESTS]
    assert [status for _, _, status, _ in recorder.seen] == statuses
    expected_layers = ["fast" if fast_path and path in FAST else "framework" for _, path, _ in REQUESTS]
    assert [layer for _, _, _, layer in recorder.seen] == expected_layers


def test_with_a_hook_both_paths_answer_byte_for_byte_alike(
    make_settings_for: SettingsFactory, tmp_path: Path
) -> None:
    """With a hook installed, the fast path and the FastAPI routes still give identical answers."""
    fast = _answers(make_settings_for(store_url=f"sqlite:///{tmp_path}/fast.db"), True, [Recorder()])
    slow = _answers(make_settings_for(store_url=f"sqlite:///{tmp_path}/slow.db"), False, [Recorder()])
    assert fast == slow
    assert [status for status, _, _ in fast] == [200, 200, 200, 200, 200, 200, 200, 404]


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast-path", "fastapi-routes"])
def test_a_hook_that_answers_stops_the_request_on_both_paths(settings: Settings, fast_path: bool) -> None:
    """A hook's answer is the request's answer, on hot routes too, and nothing behind it runs or is stored."""
    recorder = Recorder()
    app = create_app(settings, fast_path=fast_path, hooks=[recorder, Gate()])
    with ServerThread(app) as server, httpx.Client(base_url=server.url, headers=JSON_HEADERS) as client:
        refused = client.post("/v1/ingest/shipment/1", content=VALID_SHIPMENT)
        validate = client.post("/api/validate", content=VALID_SHIPMENT)
        health = client.get("/healthz")
        stats = app.state.gateway.store.stats()
    assert (refused.status_code, validate.status_code, health.status_code) == (401, 401, 200)
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["x-hooked"] == "yes"  # the earlier hook's header is on the hook's answer too
    assert (stats.accepted_total, stats.failures_total) == (0, 0)
    assert [layer for _, _, _, layer in recorder.seen] == ["hook", "hook", "framework"]


def test_adding_starlette_middleware_is_refused(settings: Settings) -> None:
    """``add_middleware`` raises at once, naming the middleware and the request hook to write instead."""
    app = create_app(settings)
    with pytest.raises(ConfigError, match=r"GZipMiddleware.*request hook"):
        app.add_middleware(GZipMiddleware)
    app.state.gateway.close()


def test_middleware_slipped_in_another_way_stops_start_up(settings: Settings) -> None:
    """Middleware appended behind ``add_middleware``'s back makes start-up fail with the same message."""
    app = create_app(settings)
    app.user_middleware.append(Middleware(GZipMiddleware))

    async def start() -> None:
        async with app.router.lifespan_context(app):
            pass

    with pytest.raises(ConfigError, match="GZipMiddleware"):
        asyncio.run(start())
    app.state.gateway.close()


def test_no_hook_no_wrapping() -> None:
    """Without hooks, the request path hands the ASGI callables through untouched."""
    seen: list[object] = []

    async def framework(scope: object, receive: object, send: object) -> None:
        seen.append(send)

    async def send(message: object) -> None:
        """Never called."""

    path = RequestPath(framework, None, ())
    asyncio.run(path({"type": "http", "method": "GET", "path": "/"}, None, send))  # type: ignore[arg-type]
    assert seen == [send]


def test_authentication_is_the_first_hook_of_every_app(settings: Settings) -> None:
    """create_app puts the request id, the Host check, then authentication, before the hooks it is given,
    so none runs for a foreign Host or without a key (and every answer carries a request id)."""
    app = create_app(settings, hooks=[Recorder()])
    assert app.request_path is not None
    hooks = [type(hook) for hook in app.request_path.hooks]
    assert hooks == [RequestIds, HostCheck, Authentication, Recorder]
    app.state.gateway.close()
