"""One request path: every HTTP request passes the same hooks, whichever layer answers it.

The outermost ASGI layer of the gateway (``GatewayApp.__call__`` hands every request here)::

    uvicorn ─► RequestPath ─► hook.on_request(exchange), in order  (a hook may answer: 401, 429, ...)
                          ├─► FastPath.answer   POST /api/validate, POST /v1/ingest/{contract}/{version}
                          └─► FastAPI           everything else: queries, contracts, docs, health, problems
                          ◄── hook.on_response(exchange), in reverse order, once the answer is sent

A hook sees an :class:`Exchange` (``exchange.py``): the request's method, path, headers and client, a
``state`` dict it can leave values in for the handlers (FastAPI routes read it as
``request.state.exchange``), headers it adds to the answer, and — in ``on_response`` — the status sent and
which layer answered. Authentication, request ids and metrics are hooks: they cannot skip the hot routes,
because the hot routes are behind them.
Starlette middleware would run inside FastAPI only, so the fast path would skip it; ``GatewayApp`` refuses it.

With no hook, a request costs one extra function call (measured in ``bench/run http-single``).
"""

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from sigma_aetl.http.exchange import Exchange, Layer
from sigma_aetl.http.fastpath import FastPath
from sigma_aetl.http.reply import Message, Receive, Reply, Scope, Send
from sigma_aetl.http.view import RequestView

ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


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

    async def _layers(
        self, scope: Scope, receive: Receive, send: Send, exchange: Exchange | None = None
    ) -> Layer:
        """The fast path, else FastAPI; with ``exchange``, each answer carries the hooks' headers (the fast
        path adds them itself; FastAPI's ``send`` is wrapped)."""
        if self.fast_path is not None and await self.fast_path.answer(scope, receive, send, exchange):
            return "fast"
        await self.framework(scope, receive, send if exchange is None else _sending(exchange, send))
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
                    await exchange.answer(send, reply)
                    return
            exchange.layer = await self._layers(scope, receive, send, exchange)
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
