"""The transport metadata of a request is stored once, however many events its batch holds."""

import sqlite3
from collections.abc import Callable
from pathlib import Path

import httpx

from sigma_aetl.cli.serve_cmd import uvicorn_options
from sigma_aetl.http import create_app
from sigma_aetl.settings import Settings
from sigma_aetl.testing import ServerThread

SettingsFactory = Callable[..., Settings]
AGENT = "a" * 256 * 1024
EVENTS = 200


def _stored_bytes(path: Path) -> int:
    """Bytes of every document and arrival the SQLite file holds, request metadata included."""
    with sqlite3.connect(path) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        total = conn.execute("SELECT sum(length(doc)) + coalesce(sum(length(latest)), 0) FROM failures")
        stored = int(total.fetchone()[0])
        if "request_headers" in tables:
            stored += int(
                conn.execute("SELECT coalesce(sum(length(doc)), 0) FROM request_headers").fetchone()[0]
            )
    return stored


def test_a_batch_with_a_256_kb_user_agent_stores_its_headers_once(
    make_settings_for: SettingsFactory, tmp_path: Path
) -> None:
    """200 failing events sent with a 256 KB User-Agent store it once: under 1 MB, not 52 MB, and read
    back whole on every failure; the same request again stores nothing more."""
    settings = make_settings_for(max_header_bytes=300_000, max_recorded_header_bytes=300_000)
    body = "".join(f'{{"shipment_id": "S-{i:03d}"}}\n' for i in range(EVENTS)).encode()
    headers = {"User-Agent": AGENT, "Content-Type": "application/x-ndjson", "Idempotency-Key": "batch-1"}
    options = uvicorn_options(settings)
    server = ServerThread(create_app(settings), http=options["http"])
    with server, httpx.Client(base_url=server.url, timeout=60) as client:
        answer = client.post("/v1/ingest/shipment/1", content=body, headers=headers).json()
        assert answer["summary"]["failed"] == EVENTS
        stored = _stored_bytes(tmp_path / "gateway.db")
        client.post("/v1/ingest/shipment/1", content=body, headers=headers)
        assert _stored_bytes(tmp_path / "gateway.db") == stored
        page = client.get("/v1/failures", params={"limit": 3}).json()
        shown = client.get(f"/v1/failures/{answer['results'][7]['failure_id']}").json()
    assert stored < 1_000_000, f"{stored} bytes stored"
    assert all(item["source"]["headers"]["user-agent"] == AGENT for item in page["items"])
    assert shown["source"]["headers"]["user-agent"] == AGENT
    assert shown["source"]["index"] == 7
    print(f"{EVENTS} failures with a 256 KB User-Agent: {stored} bytes stored")
