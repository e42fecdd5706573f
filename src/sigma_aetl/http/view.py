"""What the handlers need to know about an HTTP request, whichever layer received it."""

from collections.abc import AsyncIterator, MutableMapping
from typing import Any, NamedTuple

from fastapi import Request

from sigma_aetl.http.reply import Receive


class RequestView(NamedTuple):
    """Method, path, lower-case headers and client of one request, the API key that sent it (set by the
    authentication hook, ``auth.py``) and its id (``requestid.py``); the body is read separately.

    Immutable: a hook that learns something builds a new view (:meth:`with_request_id`,
    :meth:`with_key_id`). A named tuple, not a frozen dataclass: up to three are built for every request,
    and a frozen dataclass costs three times as much to build (0.9 µs against 0.3 here).
    """

    method: str
    path: str
    headers: dict[str, str]
    client: str | None
    key_id: str | None = None
    request_id: str | None = None
    """The request's id, chosen by the request-id hook (``requestid.py``); None before it ran."""

    @classmethod
    def of_request(cls, request: Request) -> "RequestView":
        """The view of a Starlette/FastAPI request: the one the request path built, with what its hooks
        learned (the key id), else a new one."""
        exchange = request.scope.get("state", {}).get("exchange")
        view = getattr(exchange, "request", None)
        if isinstance(view, RequestView):
            return view
        client = request.client
        return cls(
            method=request.method,
            path=request.url.path,
            headers=dict(request.headers),
            client=f"{client.host}:{client.port}" if client else None,
        )

    @classmethod
    def of_scope(cls, scope: MutableMapping[str, Any]) -> "RequestView":
        """The view of a raw ASGI HTTP scope."""
        client = scope.get("client")
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
        address = f"{client[0]}:{client[1]}" if client else None
        return _new(cls, (scope["method"], scope["path"], headers, address, None, None))

    def with_request_id(self, request_id: str) -> "RequestView":
        """This view with the request's id."""
        return _new(RequestView, (*self[:5], request_id))

    def with_key_id(self, key_id: str) -> "RequestView":
        """This view with the id of the API key that sent the request."""
        return _new(RequestView, (*self[:4], key_id, self.request_id))

    @property
    def media_type(self) -> str:
        """The content type without parameters, lower case."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def declared_size(self) -> int | None:
        """The Content-Length the client declared, if any."""
        declared = self.headers.get("content-length", "")
        return int(declared) if declared.isdigit() else None


_new = tuple.__new__
"""Builds a view from its six values at once (the named tuple's own constructor takes keywords too, and
costs half as much again)."""


class ClientDisconnected(Exception):
    """The client went away before sending its whole body; nothing of it may be judged or stored."""


async def asgi_chunks(receive: Receive) -> AsyncIterator[bytes]:
    """The body chunks of an ASGI request, until the client says there are no more."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnected
        yield message.get("body", b"")
        if not message.get("more_body", False):
            return
