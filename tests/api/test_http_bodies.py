"""Request bodies against a real uvicorn: over the limit, chunked, and too slow to finish."""

import hashlib
import json
import socket
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from sigma_aetl.http import create_app
from sigma_aetl.settings import Settings
from sigma_aetl.testing import JSON_HEADERS, ServerThread

SettingsFactory = Callable[..., Settings]
INGEST = "/v1/ingest/shipment/1"
BODY = b'{"shipment_id": "' + b"x" * 1_000_000 + b'"}'


@pytest.fixture(params=[True, False], ids=["fast-path", "fastapi-routes"])
def fast_path(request: pytest.FixtureRequest) -> bool:
    """Whether the app answers the hot routes on its ASGI fast path."""
    flag: bool = request.param
    return flag


def chunks(body: bytes, size: int) -> Iterator[bytes]:
    """``body`` in pieces of ``size`` bytes, so httpx sends it with ``Transfer-Encoding: chunked``."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


def raw_request(port: int, head: bytes, body: bytes, wait: float) -> bytes:
    """Send ``head`` and ``body`` on a raw socket, never finishing; what comes back within ``wait`` s."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(head + body)
        sock.settimeout(wait)
        received = b""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                data = sock.recv(65536)
            except TimeoutError:
                break
            if not data:
                break
            received += data
        return received


def problem_of(response: bytes) -> dict[str, object]:
    """The JSON body of a raw HTTP/1.1 response."""
    document: dict[str, object] = json.loads(response.partition(b"\r\n\r\n")[2])
    return document


def test_a_chunked_body_over_the_limit_records_its_real_size(
    make_settings_for: SettingsFactory, fast_path: bool
) -> None:
    """A chunked body over the limit is read to its end: its failure holds its whole size and hash, and
    the same upload chunked otherwise hits the same failure id."""
    settings = make_settings_for(max_request_bytes=200_000)
    with (
        ServerThread(create_app(settings, fast_path=fast_path)) as server,
        httpx.Client(base_url=server.url, timeout=30, headers=JSON_HEADERS) as client,
    ):
        first = client.post(INGEST, content=chunks(BODY, 7_000))
        again = client.post(INGEST, content=chunks(BODY, 65_536))
        failure = client.get(f"/v1/failures/{first.json()['failure_id']}").json()
        totals = client.get("/v1/stats").json()
    assert first.status_code == again.status_code == 413
    assert first.json()["size"] == len(BODY)
    assert again.json()["failure_id"] == first.json()["failure_id"]
    assert failure["raw"]["size"] == len(BODY)
    assert failure["raw"]["truncated"] is True
    assert failure["source"]["body_sha256"] == hashlib.sha256(BODY).hexdigest()
    assert BODY.startswith(failure["raw"]["text"].encode())
    assert totals["failures_total"] == 1


def test_a_body_over_the_limit_still_arriving_after_the_drain_bound_is_size_unknown(
    make_settings_for: SettingsFactory, fast_path: bool
) -> None:
    """A chunked body over the limit that is still arriving when the drain bound runs out is recorded as
    ``size_unknown``, and the same upload again hits the same failure id."""
    settings = make_settings_for(max_request_bytes=100_000, oversize_drain_timeout=0.5, body_timeout=30)
    head = (
        b"POST " + INGEST.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    piece = BODY[:150_000]
    chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    with ServerThread(create_app(settings, fast_path=fast_path)) as server:
        answers = [raw_request(server.port, head, chunk, wait=5) for _ in range(2)]
        with httpx.Client(base_url=server.url) as client:
            stored = client.get(f"/v1/failures/{problem_of(answers[0])['failure_id']}").json()
            totals = client.get("/v1/stats").json()
    assert [answer.split(b"\r\n", 1)[0] for answer in answers] == [
        b"HTTP/1.1 413 Request Entity Too Large"
    ] * 2
    problems = [problem_of(answer) for answer in answers]
    assert problems[0]["size_unknown"] is True
    assert problems[0]["failure_id"] == problems[1]["failure_id"]
    assert stored["raw"]["size_unknown"] is True
    assert totals["failures_total"] == 1


def test_a_body_that_never_finishes_is_cut_off_with_408(
    make_settings_for: SettingsFactory, fast_path: bool
) -> None:
    """A client that sends half its declared body and stalls gets a 408 problem after the body timeout,
    and nothing is stored."""
    settings = make_settings_for(body_timeout=1.0)
    head = (
        b"POST " + INGEST.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    )
    with ServerThread(create_app(settings, fast_path=fast_path)) as server:
        started = time.monotonic()
        answer = raw_request(server.port, head, b'{"shipment_id": "' + b"z" * 480, wait=10)
        elapsed = time.monotonic() - started
        with httpx.Client(base_url=server.url) as client:
            totals = client.get("/v1/stats").json()
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"application/problem+json" in answer
    problem = problem_of(answer)
    assert problem["status"] == 408
    assert problem["timeout"] == 1.0
    assert 0.9 <= elapsed < 5  # cut off by the timeout, and the connection closed after the answer
    assert (totals["accepted_total"], totals["failures_total"]) == (0, 0)


def test_a_slow_body_on_validate_is_cut_off_too(make_settings_for: SettingsFactory, fast_path: bool) -> None:
    """``POST /api/validate`` cuts off a body that never finishes with the same 408 problem."""
    settings = make_settings_for(body_timeout=0.5)
    head = b"POST /api/validate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n"
    with ServerThread(create_app(settings, fast_path=fast_path)) as server:
        answer = raw_request(server.port, head, b"{", wait=10)
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert problem_of(answer)["instance"] == "/api/validate"
