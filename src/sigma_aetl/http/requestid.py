"""Request ids: one per HTTP request, on every log line of it, in its answer and in what it stores.

The first request hook (``requestpath.py``), so the fast path and the FastAPI routes both have it, and so
do the Host check's and authentication's answers. The id is the request's ``X-Request-ID`` when that is
1 to :data:`MAX_REQUEST_ID` safe characters (letters, digits and ``._~:/@+=-``: nothing a log line or a
header could be forged with), else a new one (32 hex digits). It is

- bound to structlog's context variables while the request runs, so every line logged for it carries
  ``request_id`` — uvicorn's access line included (``logs.py`` renders uvicorn's lines too);
- sent back in the answer's ``X-Request-ID`` header, whichever layer answers;
- the ``source.request_id`` of every record the request stores (``envelopes.request_info``). A header
  that was replaced is still recorded as sent, among the request's headers.
"""

import re
import uuid

import structlog

from sigma_aetl.http.reply import Reply
from sigma_aetl.http.requestpath import Exchange
from sigma_aetl.http.view import RequestView

MAX_REQUEST_ID = 128
"""Longest ``X-Request-ID`` taken as sent."""
_SAFE = re.compile(rf"[A-Za-z0-9._~:/@+=-]{{1,{MAX_REQUEST_ID}}}")
HEADER = b"x-request-id"
_TOKENS = "request_id_tokens"


def request_id(sent: str | None) -> str:
    """``sent`` if it is a safe request id, else a new one."""
    if sent is not None and _SAFE.fullmatch(sent):
        return sent
    return uuid.uuid4().hex


class RequestIds:
    """The request hook that gives each request its id (see the module docstring)."""

    async def on_request(self, exchange: Exchange) -> Reply | None:
        """Choose the id, leave it on the request view, bind it for logging, add it to the answer."""
        view = exchange.request
        chosen = request_id(view.headers.get("x-request-id"))
        exchange.request = RequestView(view.method, view.path, view.headers, view.client, view.key_id, chosen)
        exchange.response_headers.append((HEADER, chosen.encode("ascii")))
        exchange.state[_TOKENS] = structlog.contextvars.bind_contextvars(request_id=chosen)
        return None

    def on_response(self, exchange: Exchange) -> None:
        """Unbind the id: the next request on this connection's task gets its own."""
        tokens = exchange.state.pop(_TOKENS, None)
        if tokens is not None:
            structlog.contextvars.reset_contextvars(**tokens)
