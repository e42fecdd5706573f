"""Ingest takes only the JSON content types it documents; a cross-site form post is refused, unstored."""

import httpx
import pytest

from sigma_aetl.http.mediatypes import JSON_SEQ, NDJSON_TYPES
from sigma_aetl.testing import VALID_SHIPMENT

INGEST = "/v1/ingest/shipment/1"
CROSS_SITE = ["text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", None]
"""What a web page can make a browser send without a CORS preflight (None: a Blob body, no type)."""


def _stored(client: httpx.Client) -> tuple[int, int]:
    stats = client.get("/v1/stats").json()
    return stats["accepted_total"], stats["failure_occurrences_total"]


def _post(client: httpx.Client, path: str, content_type: str | None, body: bytes) -> httpx.Response:
    request = client.build_request("POST", path, content=body)
    if content_type is None:
        request.headers.pop("content-type", None)
    else:
        request.headers["content-type"] = content_type
    return client.send(request)


@pytest.mark.parametrize("content_type", CROSS_SITE)
@pytest.mark.parametrize("path", [INGEST, "/api/validate"])
def test_cross_site_content_types_are_refused(
    client: httpx.Client, path: str, content_type: str | None
) -> None:
    """A body a web page can post cross-site answers 415 naming the accepted types, and nothing is stored."""
    response = _post(client, path, content_type, VALID_SHIPMENT)
    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert "application/json" in problem["accepted"]
    assert problem["instance"] == path
    assert _stored(client) == (0, 0)


def test_multipart_form_is_refused(client: httpx.Client) -> None:
    """A multipart form post is refused with 415 and nothing stored."""
    form = httpx.Request("POST", "http://x", files={"event": ("e.json", VALID_SHIPMENT, "application/json")})
    response = _post(client, INGEST, form.headers["content-type"], form.read())
    assert response.status_code == 415
    assert _stored(client) == (0, 0)


@pytest.mark.parametrize(
    "content_type", ["application/json", "Application/JSON; charset=utf-8", "application/cloudevents+json"]
)
def test_json_content_types_are_ingested(client: httpx.Client, content_type: str) -> None:
    """JSON and structured +json types are taken, whatever their case and parameters."""
    assert _post(client, INGEST, content_type, VALID_SHIPMENT).json()["status"] == "PASSED"
    assert _post(client, "/api/validate", content_type, VALID_SHIPMENT).json()["status"] == "PASSED"


@pytest.mark.parametrize("content_type", [*NDJSON_TYPES, JSON_SEQ])
def test_batch_types_are_for_ingest_only(client: httpx.Client, content_type: str) -> None:
    """Batch types are ingested as batches; /api/validate, which judges one event, refuses them."""
    body = b"\x1e" + VALID_SHIPMENT + b"\n" if content_type.endswith("seq") else VALID_SHIPMENT + b"\n"
    assert _post(client, INGEST, content_type, body).json()["summary"]["accepted"] == 1
    assert _post(client, "/api/validate", content_type, body).status_code == 415


def test_oversized_form_post_stores_nothing(client: httpx.Client) -> None:
    """A text/plain body over the size limit is refused for its type: no oversized failure is recorded."""
    response = _post(client, INGEST, "text/plain", b"x" * 17_000_000)
    assert response.status_code == 415
    assert _stored(client) == (0, 0)
