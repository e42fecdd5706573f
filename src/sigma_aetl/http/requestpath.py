"""One request path: every HTTP request passes the same hooks, whichever layer answers it.

The outermost ASGI layer of the gateway (``GatewayApp.__call__`` hands every request here)::

    uvicorn ─► RequestPath ─► hook.on_request(exchange), in order  (a hook may answer: 401, 429, ...)
                          ├─► FastPath.answer   POST /api/validate, POST /v1/ingest/{contract}/{version}
                          └─► FastAPI           everything else: queries, contracts, docs, health, problems
                          ◄── hook.on_response(exchange), in reverse order, once the answer is sent

A hook sees a :class:`Exchange`: the request's method, path, headers and client, a ``state`` dict it can
leave values in for the handlers (FastAPI routes read it as ``request.state.exchange``), headers it adds
to the answer, and — in ``on_response`` — the status sent and which layer answered. Authentication,
request ids and metrics are hooks: they cannot skip the hot routes, because the hot routes are behind them.
Starlette middleware would run inside FastAPI only, so the fast path would skip it; ``GatewayApp`` refuses it.

With no hook, a request costs one extra function call (measured in ``bench/run http-single``).
"""

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from sigma_aetl.http.fastpath import FastPath
from sigma_aetl.http.reply import Message, Receive, Reply, Scope, Send, send_reply
from sigma_aetl.http.view import RequestView

Layer = Literal["hook", "fast", "framework"]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(slots=True)
class Exchange:
    """One HTTP request as the hooks see it, and what they add to its answer."""

    request: RequestView
    started: float = field(default_factory=time.perf_counter)
    """``time.perf_counter()`` when the request entered the gateway."""
    state: dict[str, Any] = field(default_factory=dict)
    """Values hooks leave for the handlers and for later hooks (e.g. the API key id)."""
    response_headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    """Headers added to the answer, whichever layer sends it."""
    status: int | None = None
    """The status sent; None until the answer starts (or if the client went away first)."""
    layer: Layer | None = None
    """Which layer answered: a hook, the fast path or FastAPI."""


class RequestHook(Protocol):
    """Something every HTTP request passes through (see the module docstring)."""

    async def on_request(self, exchange: Exchange) -> Reply | None:
        """Before any layer answers: None lets the request through; a :class:`Reply` answers it here."""
        ...

    def on_response(self, exchange: Exchange) -> None:
        """After the answer was sent (or the request ended without one); must not raise."""
        ...


class RequestPath:
    """Hooks, then the fast path, then the framework, for every HTTP request."""

    def __init__(self, framework: ASGIApp, fast_path: FastPath | None, hooks: Sequence[RequestHook]) -> None:
        self.framework = framework
        self.fast_path = fast_path
        self.hooks = tuple(hooks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection scope (lifespan and websockets go straight to the framework)."""
        if scope["type"] != "http":
            await self.framework(scope, receive, send)
        elif not self.hooks:  # the common case today: nothing to wrap
            await self._layers(scope, receive, send)
        else:
            await self._hooked(scope, receive, send)

    async def _layers(self, scope: Scope, receive: Receive, send: Send) -> Layer:
        if self.fast_path is not None and await self.fast_path.answer(scope, receive, send):
            return "fast"
        await self.framework(scope, receive, send)
        return "framework"

    async def _hooked(self, scope: Scope, receive: Receive, send: Send) -> None:
        exchange = Exchange(RequestView.of_scope(scope))
        scope.setdefault("state", {})["exchange"] = exchange
        hooks, passed = self.hooks, 0
        try:
            for hook in hooks:
                passed += 1
                reply = await hook.on_request(exchange)
                if reply is not None:
                    exchange.layer = "hook"
                    await send_reply(_sending(exchange, send), reply)
                    return
            exchange.layer = await self._layers(scope, receive, _sending(exchange, send))
        finally:
            for hook in reversed(hooks[:passed]):
                hook.on_response(exchange)


def _sending(exchange: Exchange, send: Send) -> Send:
    """``send``, adding the exchange's headers to the answer and noting its status."""

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            exchange.status = message["status"]
            if exchange.response_headers:
                message = {**message, "headers": [*message.get("headers", ()), *exchange.response_headers]}
        await send(message)

    return wrapped
