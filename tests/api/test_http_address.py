"""The contract name and version are recorded exactly as the request target addressed them."""

import json
import socket

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sigma_aetl.http.address import segment_text
from sigma_aetl.testing import VALID_SHIPMENT, ServerThread


def _raw_ingest(server: ServerThread, target: bytes) -> dict[str, object]:
    """POST one event to ``target`` over a raw socket; the JSON answer."""
    head = (
        b"POST " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Connection: close\r\nContent-Length: " + str(len(VALID_SHIPMENT)).encode() + b"\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head + VALID_SHIPMENT)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    status, _, body = answer.partition(b"\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 200 "), answer
    outcome: dict[str, object] = json.loads(body)
    return outcome


@pytest.mark.parametrize(
    ("target", "contract_ref"),
    [
        (b"/v1/ingest/caf%FF/1%FE", "caf%FF@1%FE"),
        (b"/v1/ingest/caf%FE/1%FE", "caf%FE@1%FE"),
        (b"/v1/ingest/caf%C3%A9/1", "café@1"),
        (b"/v1/ingest/a%40b/1?x=%FF", "a%40b@1"),
        (b"/v1/ingest/50%25/2", "50%25@2"),
    ],
)
def test_contract_is_recorded_as_addressed(
    server: ServerThread, client: httpx.Client, target: bytes, contract_ref: str
) -> None:
    """Bytes that are not UTF-8 are percent-escaped in the recorded contract, never replaced by U+FFFD."""
    outcome = _raw_ingest(server, target)
    failure = client.get(f"/v1/failures/{outcome['failure_id']}").json()
    assert failure["contract_ref"] == contract_ref
    assert failure["root_cause"] == "unknown_contract"


def test_names_that_differ_in_bytes_are_different_failures(server: ServerThread) -> None:
    """Two addresses that differ only in bytes that are not UTF-8 are two failures, not one."""
    first = _raw_ingest(server, b"/v1/ingest/x%FF/1")
    second = _raw_ingest(server, b"/v1/ingest/x%FE/1")
    assert first["failure_id"] != second["failure_id"]
    assert second["duplicate"] is False


@given(st.binary(max_size=12), st.binary(max_size=12))
def test_segment_text_is_injective(first: bytes, second: bytes) -> None:
    """Two different decoded segments are never recorded as the same text, and never hold '@'."""
    one, two = segment_text(_quoted(first)), segment_text(_quoted(second))
    assert (one == two) == (first == second)
    assert "@" not in one


def _quoted(data: bytes) -> bytes:
    return b"".join(b"%%%02X" % byte for byte in data)
