"""``serve``'s HTTP/1.1 protocol: uvicorn's httptools protocol, with a bounded request head.

uvicorn sets no limit on a request head under httptools: every header is appended to a list, and a header
value still arriving is buffered by httptools itself, so an 8 MB header is read whole and handed to the
app. Neither uvicorn nor httptools offers a setting for it (h11 has ``h11_max_incomplete_event_size``, but
answers a plain-text 400 and costs throughput), so the bound is enforced here, where the bytes arrive:

- while a head is incomplete, every chunk read that ends inside it is counted; once they exceed
  ``max_header_bytes`` the request is answered 431 and nothing more is parsed. Memory held by a head is
  thus at most the limit plus one read (asyncio reads at most 256 KiB at a time).
- a head that completes within a chunk is measured exactly (target plus every header name and value) and
  answered 431 instead of being handed to the app.

Either way the answer is RFC 9457 problem details with ``Connection: close``; the rest of what the client
sends is read and discarded for a moment (a lingering close, so that it sees the answer rather than a
reset), then the connection is closed. (A pipelined head that grows over the limit while the answer to
the request before it is still being sent closes the connection instead: a 431 would cut into that
answer.) uvicorn's ``limit_concurrency`` answer (a plain-text 503) is
replaced by problem details in the same way.

A request uvicorn cannot parse (a malformed request line or header, a bad chunked encoding) never reaches
the application: uvicorn answers it itself, in plain text ("Invalid HTTP request received."). Every other
error of the gateway is an RFC 9457 problem, so these protocols change that answer too
(``send_400_response``, the one method both of uvicorn's HTTP/1.1 protocols call for it); the connection
is still closed after it. ``ProblemH11Protocol`` does the same for uvicorn's h11 protocol (``serve`` uses
httptools). If a future uvicorn stopped calling the method, its plain-text answer would come back, and
``tests/api/test_http_serve_hygiene.py`` would say so.
"""

import asyncio
from typing import Any, ClassVar

import h11
from uvicorn.protocols.http.flow_control import service_unavailable
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from sigma_aetl.http.problems import problem_body
from sigma_aetl.http.reply import PROBLEM, Receive, Scope, Send

LINGER_SECONDS = 2.0
"""How long a connection refused for its head keeps reading (and discarding) before it is closed."""
_RETRY_AFTER = b"1"
BAD_REQUEST = problem_body(
    400,
    "The request is not valid HTTP/1.1 (its request line, a header or its body framing could not be "
    "parsed); nothing of it was read. The connection is closed.",
)


def head_size(scope: Any) -> int:
    """The bytes of a request head as limited: the raw target, the query and every header name and value."""
    size = len(scope["raw_path"]) + len(scope["query_string"])
    return size + sum(len(name) + len(value) for name, value in scope["headers"])


def too_large_detail(limit: int) -> str:
    """What a 431 says."""
    return f"The request head (target and headers) is over the limit of {limit} bytes."


class GatewayProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a request head of at most :attr:`max_header_bytes`."""

    max_header_bytes: ClassVar[int] = 65_536

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = False
        self._head_counted = 0
        self._began = False
        self._discarding = False

    @classmethod
    def limited(cls, max_header_bytes: int) -> type["GatewayProtocol"]:
        """This protocol with its own head limit (uvicorn builds one instance per connection)."""
        return type(cls.__name__, (cls,), {"max_header_bytes": max_header_bytes})

    def data_received(self, data: bytes) -> None:
        """Parse ``data``, unless the connection is refused; refuse a head that grew over the limit."""
        if self._discarding:
            return
        self._began = False
        super().data_received(data)
        if self._in_head and not self._began:  # the whole chunk belongs to the incomplete head
            self._head_counted += len(data)
            if self._head_counted > self.max_header_bytes:
                self._refuse_head()

    def on_message_begin(self) -> None:
        """A new request: its head is counted from the next chunk on (this one may hold the last body)."""
        super().on_message_begin()
        self._in_head, self._began, self._head_counted = True, True, 0

    def on_headers_complete(self) -> None:
        """The head is whole; it is measured exactly when its request starts."""
        self._in_head = False
        super().on_headers_complete()

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        if app is service_unavailable:
            app = _problem_app(503, "The gateway is at its connection limit; retry shortly.", _RETRY_AFTER)
        elif head_size(cycle.scope) > self.max_header_bytes:
            app = _problem_app(431, too_large_detail(self.max_header_bytes))
        super()._start_asgi_task(cycle, app)

    def send_400_response(self, msg: str) -> None:
        """The problem-details 400 for a request httptools cannot parse, then the connection closed."""
        head = [b"HTTP/1.1 400 Bad Request\r\n"]
        headers = [*self.server_state.default_headers, *_bad_request_headers()]
        head.extend(name + b": " + value + b"\r\n" for name, value in headers)
        self.transport.write(b"".join([*head, b"\r\n", BAD_REQUEST]))
        self.transport.close()

    def _refuse_head(self) -> None:
        """Answer 431 on the raw transport, then read and drop what follows until the linger ends."""
        body = problem_body(431, too_large_detail(self.max_header_bytes))
        head = [
            b"HTTP/1.1 431 Request Header Fields Too Large\r\n",
            b"content-type: " + PROBLEM.encode() + b"\r\n",
            b"content-length: " + str(len(body)).encode() + b"\r\n",
            b"connection: close\r\n\r\n",
        ]
        self._discarding = True
        if self.cycle is not None and not self.cycle.response_complete:
            # a pipelined head behind an answer still being sent: a 431 now would cut into that answer
            self.logger.warning(
                "Pipelined request head over %d bytes: connection closed.", self.max_header_bytes
            )
            self.transport.abort()
            return
        self.logger.warning("Request head over %d bytes: answered 431.", self.max_header_bytes)
        self.transport.write(b"".join(head) + body)
        if self.transport.can_write_eof():
            self.transport.write_eof()
        asyncio.get_running_loop().call_later(LINGER_SECONDS, self.transport.close)


def _problem_app(status: int, detail: str, retry_after: bytes | None = None) -> Any:
    """An ASGI app answering one problem-details reply and closing the connection."""
    body = problem_body(status, detail)
    headers = [(b"content-type", PROBLEM.encode()), (b"content-length", str(len(body)).encode())]
    headers.append((b"connection", b"close"))
    if retry_after is not None:
        headers.append((b"retry-after", retry_after))

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def _bad_request_headers() -> list[tuple[bytes, bytes]]:
    return [
        (b"content-type", PROBLEM.encode("ascii")),
        (b"content-length", str(len(BAD_REQUEST)).encode("ascii")),
        (b"connection", b"close"),
    ]


class ProblemH11Protocol(H11Protocol):
    """uvicorn's h11 protocol; its 400 for a malformed request is problem details."""

    def send_400_response(self, msg: str) -> None:
        """The problem-details 400, then the connection closed (as uvicorn does)."""
        response = h11.Response(status_code=400, headers=_bad_request_headers(), reason=b"Bad Request")
        for event in (response, h11.Data(data=BAD_REQUEST), h11.EndOfMessage()):
            output = self.conn.send(event)
            if output:
                self.transport.write(output)
        self.transport.close()
