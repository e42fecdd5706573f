"""`sigma-aetl serve` itself: malformed requests get problem details, and the Host check is on."""

import asyncio
import json
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.conftest import CONTRACTS
from cli_support import clean_environ
from serve_support import ServeProcess, free_port, serve_command
from sigma_aetl.http import create_app
from sigma_aetl.http.protocol import GatewayProtocol, ProblemH11Protocol
from sigma_aetl.settings import Settings
from sigma_aetl.testing import ServerThread

MALFORMED = [
    b"GARBAGE\r\n\r\n",
    b"GET /v1/stats HTTP/1.1\r\nHost: 127.0.0.1\r\nNo colon here\r\n\r\n",
    b"POST /v1/ingest/shipment/1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    b"GET /v1/stats HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
]


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """One real `serve` process for the module."""
    with ServeProcess(tmp_path_factory.mktemp("serve"), CONTRACTS) as running:
        yield running


def _exchange(port: int, request: bytes) -> tuple[bytes, dict[str, str], bytes]:
    """Send ``request`` on a new connection; the status line, headers and body, once the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return status.encode("latin-1"), headers, body


@pytest.mark.parametrize("request_bytes", MALFORMED, ids=["garbage", "header", "chunk", "two-lengths"])
def test_malformed_request_is_a_problem(gateway: ServeProcess, request_bytes: bytes) -> None:
    """A request uvicorn cannot parse is answered 400 with problem details, never uvicorn's plain text."""
    status, headers, body = _exchange(gateway.port, request_bytes)
    assert status.startswith(b"HTTP/1.1 400"), (status, body)
    assert headers["content-type"] == "application/problem+json"
    assert int(headers["content-length"]) == len(body)
    problem = json.loads(body)
    assert (problem["status"], problem["title"]) == (400, "Bad Request")
    assert gateway.http.get("/healthz").status_code == 200


def test_serve_checks_the_host(gateway: ServeProcess) -> None:
    """`serve` on loopback answers a rebound name 421, and its own address as usual."""
    rebound = b"GET /v1/stats HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n"
    assert _exchange(gateway.port, rebound)[0].startswith(b"HTTP/1.1 421")
    assert gateway.http.get("/v1/stats").status_code == 200


def test_serve_on_a_public_address_needs_host_names(tmp_path: Path) -> None:
    """`serve --host 0.0.0.0` without allowed Host names exits 2 saying how to set them."""
    command = serve_command(tmp_path / "g.db", CONTRACTS, "--host", "0.0.0.0", "--port", str(free_port()))
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=60, env=clean_environ(), check=False
    )
    assert done.returncode == 2, done.stderr
    assert "SIGMA_AETL_ALLOWED_HOSTS" in done.stderr
    assert not (tmp_path / "g.db").exists()


@pytest.mark.parametrize("protocol", [ProblemH11Protocol, GatewayProtocol], ids=["h11", "httptools"])
def test_both_protocols_answer_problems(settings: Settings, protocol: type[asyncio.Protocol]) -> None:
    """uvicorn's h11 protocol and the gateway's httptools one both answer bad requests with problems."""
    with ServerThread(create_app(settings), http=protocol) as server:
        status, headers, body = _exchange(server.port, MALFORMED[0])
    assert status.startswith(b"HTTP/1.1 400")
    assert headers["content-type"] == "application/problem+json"
    assert json.loads(body)["status"] == 400
