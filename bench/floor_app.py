"""The floor: the smallest ASGI app uvicorn can serve — read the body, answer fixed JSON — for reference.

No framework, no validation. Whatever the gateway does per request costs on top of this, so its requests/s
under the same uvicorn (same event loop, same HTTP parser) is the ceiling for any endpoint on this
machine::

    python -m uvicorn bench.floor_app:app --port 8002 --log-level warning
"""

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Message = MutableMapping[str, Any]
_BODY = b'{"status":"PASSED"}'
_HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(_BODY)).encode())]


async def app(
    scope: Message, receive: Callable[[], Awaitable[Message]], send: Callable[[Message], Awaitable[None]]
) -> None:
    """Drain the request body, answer 200 with a fixed JSON body."""
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": _BODY})
