"""uvicorn's HTTP/1.1 protocol, answering a request it cannot parse with problem details.

A request uvicorn cannot parse (a malformed request line or header, a bad chunked encoding) never reaches
the application: uvicorn answers it itself, in plain text ("Invalid HTTP request received."). Every other
error of the gateway is an RFC 9457 problem, so ``serve`` runs uvicorn with these subclasses, which change
only that answer (``send_400_response``, the one method both of uvicorn's HTTP/1.1 protocols call for it).
The connection is still closed after it: the parser's state is lost, nothing more on it can be trusted.
If a future uvicorn stopped calling the method, its plain-text answer would come back, and
``tests/api/test_http_serve_hygiene.py`` would say so.
"""

import asyncio

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from sigma_aetl.http.problems import MEDIA_TYPE, problem_body

BAD_REQUEST = problem_body(
    400,
    "The request is not valid HTTP/1.1 (its request line, a header or its body framing could not be "
    "parsed); nothing of it was read. The connection is closed.",
)


def _headers() -> list[tuple[bytes, bytes]]:
    return [
        (b"content-type", MEDIA_TYPE.encode("ascii")),
        (b"content-length", str(len(BAD_REQUEST)).encode("ascii")),
        (b"connection", b"close"),
    ]


class ProblemH11Protocol(H11Protocol):
    """uvicorn's h11 protocol; its 400 for a malformed request is problem details."""

    def send_400_response(self, msg: str) -> None:
        """The problem-details 400, then the connection closed (as uvicorn does)."""
        response = h11.Response(status_code=400, headers=_headers(), reason=b"Bad Request")
        for event in (response, h11.Data(data=BAD_REQUEST), h11.EndOfMessage()):
            output = self.conn.send(event)
            if output:
                self.transport.write(output)
        self.transport.close()


def _httptools_protocol() -> type[asyncio.Protocol] | None:
    """The httptools subclass, when httptools is installed (uvicorn's default then)."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol  # noqa: PLC0415
    except ImportError:  # pragma: no cover - httptools ships with uvicorn[standard]
        return None

    class ProblemHttpToolsProtocol(HttpToolsProtocol):
        """uvicorn's httptools protocol; its 400 for a malformed request is problem details."""

        def send_400_response(self, msg: str) -> None:
            """The problem-details 400, then the connection closed (as uvicorn does)."""
            head = [b"HTTP/1.1 400 Bad Request\r\n"]
            headers = [*self.server_state.default_headers, *_headers()]
            head.extend(name + b": " + value + b"\r\n" for name, value in headers)
            self.transport.write(b"".join([*head, b"\r\n", BAD_REQUEST]))
            self.transport.close()

    return ProblemHttpToolsProtocol


def problem_protocol() -> type[asyncio.Protocol]:
    """The protocol class for ``uvicorn.Config(http=...)``: httptools when installed, as uvicorn's
    ``auto`` picks, else h11."""
    return _httptools_protocol() or ProblemH11Protocol
