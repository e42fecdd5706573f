"""A complete HTTP answer as plain bytes, and the two ways it leaves: raw ASGI or a Starlette response.

Handlers, request hooks and the fast path all produce a :class:`Reply`; the fast path and the request path
send it straight over ASGI (:func:`send_reply`), FastAPI routes return it as a Starlette response
(:func:`reply_response`). Both write the same status, ``content-type``, ``content-length`` and body.
"""

from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi.responses import Response

from sigma_aetl.http.problems import problem_body

JSON = "application/json"
PROBLEM = "application/problem+json"
_CLOSE = (b"connection", b"close")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Reply:
    """A complete HTTP answer."""

    status: int
    body: bytes
    media_type: str = JSON
    close: bool = False
    """Send ``Connection: close``: the request's body was left unread, so the connection ends here."""


def problem_reply(status: int, detail: str, instance: str, *, close: bool = False, **extra: object) -> Reply:
    """An RFC 9457 problem-details reply (``close``: end the connection after it)."""
    return Reply(status, problem_body(status, detail, instance=instance, **extra), PROBLEM, close)


async def send_reply(send: Send, reply: Reply, extra: Sequence[tuple[bytes, bytes]] = ()) -> None:
    """Send ``reply`` over ASGI, with the ``extra`` headers after its own."""
    headers = [
        (b"content-type", reply.media_type.encode("latin-1")),
        (b"content-length", str(len(reply.body)).encode("latin-1")),
    ]
    if reply.close:
        headers.append(_CLOSE)
    if extra:
        headers.extend(extra)
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    await send({"type": "http.response.body", "body": reply.body})


def reply_response(reply: Reply) -> Response:
    """``reply`` as a Starlette response (for FastAPI routes)."""
    headers = {"connection": "close"} if reply.close else None
    return Response(reply.body, status_code=reply.status, media_type=reply.media_type, headers=headers)
