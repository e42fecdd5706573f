"""Request ids: one per HTTP request, on every log line of it, in its answer and in what it stores.

The first request hook (``requestpath.py``), so the fast path and the FastAPI routes both have it, and so
do the Host check's and authentication's answers. The id is the request's ``X-Request-ID`` when that is
1 to :data:`MAX_REQUEST_ID` safe characters (letters, digits and ``._~:/@+=-``: nothing a log line or a
header could be forged with), else a new one: 32 hex digits from :mod:`random` (seeded from the system's
entropy, and again in each forked child), not from the kernel. A request id names a request in logs and
records; it grants nothing, and the client sees it anyway, so it needs to be unique, not unpredictable,
and a system call per request cost more than the rest of this hook's choosing. It is

- set in :data:`sigma_aetl.logs.REQUEST_ID` (a context variable) while the request runs, so every line
  logged for it carries ``request_id`` — uvicorn's access line included (``logs.py`` renders uvicorn's
  lines too);
- sent back in the answer's ``X-Request-ID`` header, whichever layer answers;
- the ``source.request_id`` of every record the request stores (``envelopes.request_info``). A header
  that was replaced is still recorded as sent, among the request's headers.
"""

import random
import re

from sigma_aetl import logs
from sigma_aetl.http.exchange import Exchange
from sigma_aetl.http.reply import Reply

MAX_REQUEST_ID = 128
"""Longest ``X-Request-ID`` taken as sent."""
_SAFE = re.compile(rf"[A-Za-z0-9._~:/@+=-]{{1,{MAX_REQUEST_ID}}}")
HEADER = b"x-request-id"
_TOKEN = "request_id_token"


def request_id(sent: str | None) -> str:
    """``sent`` if it is a safe request id, else a new one."""
    if sent is not None and _SAFE.fullmatch(sent):
        return sent
    return f"{random.getrandbits(128):032x}"


class RequestIds:
    """The request hook that gives each request its id (see the module docstring)."""

    async def on_request(self, exchange: Exchange) -> Reply | None:
        """Choose the id, leave it on the request view, bind it for logging, add it to the answer."""
        view = exchange.request
        chosen = request_id(view.headers.get("x-request-id"))
        exchange.request = view.with_request_id(chosen)
        exchange.response_headers.append((HEADER, chosen.encode("ascii")))
        exchange.state[_TOKEN] = logs.REQUEST_ID.set(chosen)
        return None

    def on_response(self, exchange: Exchange) -> None:
        """Unbind the id: the next request on this connection's task gets its own."""
        token = exchange.state.pop(_TOKEN, None)
        if token is not None:
            logs.REQUEST_ID.reset(token)
