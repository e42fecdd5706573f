"""Request heads under ``serve``'s protocol: a total size limit (431) and what an event records of them."""

import socket
from collections.abc import Callable, Iterator

import httpx
import orjson
import pytest

from sigma_aetl.cli.serve_cmd import uvicorn_options
from sigma_aetl.http import create_app
from sigma_aetl.settings import Settings
from sigma_aetl.testing import INVALID_SHIPMENT, JSON_HEADERS, ServerThread

SettingsFactory = Callable[..., Settings]
LIMIT = 16_384


@pytest.fixture
def limited(make_settings_for: SettingsFactory) -> Iterator[ServerThread]:
    """The gateway under ``serve``'s uvicorn options, with a 16 KiB head limit."""
    settings = make_settings_for(max_header_bytes=LIMIT, max_recorded_header_bytes=100)
    with ServerThread(create_app(settings), **uvicorn_options(settings)) as running:
        yield running


def _exchange(server: ServerThread, head: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``head`` (a request without a body) on a raw socket; the status, headers and body answered."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(head)
        answer = b""
        while chunk := sock.recv(65_536):
            answer += chunk
    start, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = start.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines)
    return int(status_line.split()[1]), headers, body


def _head(header_value_size: int) -> bytes:
    value = b"a" * header_value_size
    return b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + value + b"\r\nConnection: close\r\n\r\n"


@pytest.mark.parametrize("size", [LIMIT + 1, 300_000, 8 * 1024 * 1024], ids=["just-over", "300k", "8m"])
def test_a_head_over_the_limit_is_431_problem_details(limited: ServerThread, size: int) -> None:
    """A request head over max_header_bytes is answered 431 problem details and the connection closed."""
    status, headers, body = _exchange(limited, _head(size))
    assert status == 431
    assert headers["content-type"] == "application/problem+json"
    assert headers["connection"] == "close"
    problem = orjson.loads(body)
    assert problem["status"] == 431
    assert str(LIMIT) in problem["detail"]


def test_a_head_within_the_limit_is_served(limited: ServerThread) -> None:
    """A request head a little under the limit reaches the gateway."""
    status, _, _ = _exchange(limited, _head(LIMIT - 200))
    assert status == 200


def test_a_long_header_is_recorded_truncated_with_its_length(limited: ServerThread) -> None:
    """A header over max_recorded_header_bytes is kept as its first bytes, and its real length is recorded."""
    with httpx.Client(base_url=limited.url, headers=JSON_HEADERS) as client:
        sent = {"User-Agent": "u" * 5000, "X-Request-ID": "r-1"}
        outcome = client.post("/v1/ingest/shipment/1", content=INVALID_SHIPMENT, headers=sent).json()
        source = client.get(f"/v1/failures/{outcome['failure_id']}").json()["source"]
    assert source["headers"]["user-agent"] == "u" * 100
    assert source["headers_truncated"] == {"user-agent": 5000}
    assert source["headers"]["x-request-id"] == "r-1"


def test_non_ascii_header_bytes_are_recorded_losslessly(limited: ServerThread) -> None:
    """Header bytes outside ASCII are recorded one character per byte: encoding as latin-1 gives them back."""
    sent = "café ÿ".encode() + b"\xff\x80"
    with httpx.Client(base_url=limited.url, headers=JSON_HEADERS) as client:
        outcome = client.post(
            "/v1/ingest/shipment/1", content=INVALID_SHIPMENT, headers={b"User-Agent": sent}
        ).json()
        source = client.get(f"/v1/failures/{outcome['failure_id']}").json()["source"]
    assert source["headers"]["user-agent"].encode("latin-1") == sent
    assert "headers_truncated" not in source
