"""The ASGI fast path answers exactly as the FastAPI routes do, and only for its two routes."""

import socket
import threading
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from sigma_aetl.http import create_app
from sigma_aetl.http.address import ingest_address
from sigma_aetl.http.exchange import Exchange
from sigma_aetl.http.reply import Reply
from sigma_aetl.settings import Settings
from sigma_aetl.testing import (
    EXTRA_FIELD,
    HEAVY_SHIPMENT,
    INVALID_SHIPMENT,
    INVALID_UTF8,
    JSON_HEADERS,
    TRUNCATED,
    VALID_SHIPMENT,
    ServerThread,
)

SettingsFactory = Callable[..., Settings]
BODIES = [
    VALID_SHIPMENT,
    INVALID_SHIPMENT,
    HEAVY_SHIPMENT,
    EXTRA_FIELD,
    TRUNCATED,
    INVALID_UTF8,
    b"",
    b"[1, {}]",
]


@pytest.mark.parametrize(
    ("path", "address"),
    [
        ("/v1/ingest/shipment/1", ("shipment", "1")),
        ("/v1/ingest/shipment/v9", ("shipment", "v9")),
        ("/v1/ingest/shipment", None),
        ("/v1/ingest/shipment/", None),
        ("/v1/ingest//1", None),
        ("/v1/ingest/shipment/1/extra", None),
        ("/v1/ingestx/shipment/1", None),
        ("/v1/records/rec_1", None),
    ],
)
def test_ingest_address_is_parsed_strictly(path: str, address: tuple[str, str] | None) -> None:
    """Only /v1/ingest/NAME/VERSION is taken by the fast path; any other shape goes to FastAPI."""
    assert ingest_address({"path": path, "raw_path": path.encode()}) == address


def _answers(settings: Settings, fast_path: bool) -> list[tuple[int, str, bytes]]:
    with (
        ServerThread(create_app(settings, fast_path=fast_path)) as server,
        httpx.Client(base_url=server.url, headers=JSON_HEADERS) as c,
    ):
        answers = []
        for body in BODIES:
            for path in ("/api/validate", "/v1/ingest/shipment/1", "/v1/ingest/shipment/7"):
                response = c.post(path, content=body, headers={"x-request-id": "r-1"})
                answers.append((response.status_code, response.headers["content-type"], response.content))
        return answers


def test_both_layers_answer_byte_for_byte_alike(tmp_path: Path, make_settings_for: SettingsFactory) -> None:
    """For the same requests on fresh stores, the fast path and the FastAPI routes give identical answers."""
    fast = _answers(make_settings_for(store_url=f"sqlite:///{tmp_path}/fast.db"), fast_path=True)
    slow = _answers(make_settings_for(store_url=f"sqlite:///{tmp_path}/slow.db"), fast_path=False)
    assert fast == slow
    assert {status for status, _, _ in fast} == {200}


def test_other_methods_and_shapes_fall_through_to_fastapi(client: httpx.Client) -> None:
    """A GET on a hot route, or a longer ingest path, is answered by FastAPI as problem details."""
    for method, path, status in [
        ("GET", "/api/validate", 405),
        ("POST", "/v1/ingest/shipment/1/extra", 404),
        ("PUT", "/v1/ingest/shipment/1", 405),
    ]:
        response = client.request(method, path, content=VALID_SHIPMENT)
        assert response.status_code == status
        assert response.headers["content-type"] == "application/problem+json"


class _Ended:
    """A request hook that signals when a request has ended, answered or not."""

    def __init__(self) -> None:
        self.ended = threading.Event()

    async def on_request(self, exchange: Exchange) -> Reply | None:
        """Let every request through."""
        return None

    def on_response(self, exchange: Exchange) -> None:
        """Signal the end of the request."""
        self.ended.set()


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast-path", "fastapi-routes"])
def test_a_body_cut_off_by_a_disconnect_leaves_nothing(settings: Settings, fast_path: bool) -> None:
    """A body cut off by the client's disconnect is neither judged nor stored."""
    head = (
        b"POST /v1/ingest/shipment/1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000\r\n\r\n" + VALID_SHIPMENT[:20]
    )
    hook = _Ended()
    app = create_app(settings, fast_path=fast_path, hooks=[hook])
    with ServerThread(app) as server:
        with socket.create_connection(("127.0.0.1", server.port)) as raw:
            raw.sendall(head)
        assert hook.ended.wait(10), "the server never finished the cut-off request"
        stats = app.state.gateway.store.stats()
    assert (stats.accepted_total, stats.failures_total) == (0, 0)
