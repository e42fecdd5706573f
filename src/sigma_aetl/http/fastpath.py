"""An ASGI fast path for the two hot endpoints, taken before the FastAPI application is entered.

``POST /api/validate`` and ``POST /v1/ingest/{contract}/{version}`` are answered here, straight from the
ASGI scope, with the same handlers the FastAPI routes use — without the framework's per-request middleware,
routing, dependency and response machinery, which costs more than validating the event. Everything else
(queries, docs, health, errors) goes to FastAPI, where these two routes stay declared for the OpenAPI
document. It is one layer of the request path (``requestpath.py``): the request hooks run before it, so
nothing cross-cutting can skip it. Measured under ``POST /api/validate``, entering FastAPI and its error
middleware before the fast path cost a fifth of the requests per second.
"""

from collections.abc import AsyncIterator, MutableMapping
from typing import Any

from sigma_aetl.http.address import ingest_address
from sigma_aetl.http.body import Body, BodyLimits, Deadline, TimedOut, read_body
from sigma_aetl.http.exchange import Exchange
from sigma_aetl.http.handlers import DefaultContract, Ingestor, validate_reply
from sigma_aetl.http.reply import Receive, Reply, Scope, Send, send_reply
from sigma_aetl.http.view import ClientDisconnected, RequestView, asgi_chunks


class FastPath:
    """Answers the hot routes itself; :meth:`answer` says whether it took the request."""

    def __init__(self, ingestor: Ingestor, default_contract: DefaultContract) -> None:
        self.ingestor = ingestor
        self.default_contract = default_contract
        self._limits = BodyLimits.of(ingestor.gateway.settings)
        self._event_limits = ingestor.gateway.settings.limits  # frozen settings: built once, not per request

    async def answer(
        self, scope: Scope, receive: Receive, send: Send, exchange: Exchange | None = None
    ) -> bool:
        """Serve the request if it is one of the hot routes (True); otherwise touch nothing (False). With
        the request hooks' ``exchange``, its view is the request's and its headers go on the answer."""
        if scope["type"] != "http" or scope["method"] != "POST":
            return False
        path: str = scope["path"]
        try:
            if path == "/api/validate":
                await self._validate(scope, receive, send, exchange)
                return True
            address = ingest_address(scope)
            if address is None:
                return False
            await self._ingest(scope, receive, send, exchange, address)
        except ClientDisconnected:
            pass  # a half-sent body is not an event: nothing is judged, stored or answered
        return True

    async def _validate(self, scope: Scope, receive: Receive, send: Send, exchange: Exchange | None) -> None:
        body = await self._body(scope, receive, exchange)
        view = _view(scope, exchange)
        reply = validate_reply(self.default_contract, view, self._event_limits, body, self._limits.max_bytes)
        await _send(send, reply, exchange)

    async def _ingest(
        self, scope: Scope, receive: Receive, send: Send, exchange: Exchange | None, address: tuple[str, str]
    ) -> None:
        body = await self._body(scope, receive, exchange)
        contract, version = address
        reply = await self.ingestor.ingest(_view(scope, exchange), contract, version, body)
        await _send(send, reply, exchange)

    async def _body(self, scope: Scope, receive: Receive, exchange: Exchange | None) -> Body:
        """The body; one message holds it whole in the common case, read without the chunk machinery."""
        deadline = Deadline(self._limits.timeout)
        try:
            message = await deadline.within(receive())
        except TimeoutError:
            return TimedOut(self._limits.timeout)
        if message["type"] == "http.request" and not message.get("more_body", False):
            body: bytes = message.get("body", b"")
            if len(body) <= self._limits.max_bytes:
                return body
        declared = _view(scope, exchange).declared_size
        return await read_body(_chain(message, receive), self._limits, declared, deadline)


async def _chain(first: MutableMapping[str, Any], receive: Receive) -> AsyncIterator[bytes]:
    """The body chunks, starting with a message already received."""
    if first["type"] == "http.disconnect":
        raise ClientDisconnected
    yield first.get("body", b"")
    if first.get("more_body", False):
        async for chunk in asgi_chunks(receive):
            yield chunk


def _view(scope: Scope, exchange: Exchange | None = None) -> RequestView:
    """The request's view: the one the request path built for its hooks, else a new one."""
    return RequestView.of_scope(scope) if exchange is None else exchange.request


async def _send(send: Send, reply: Reply, exchange: Exchange | None) -> None:
    """Send ``reply``, through the exchange when the request hooks have one."""
    if exchange is None:
        await send_reply(send, reply)
    else:
        await exchange.answer(send, reply)
