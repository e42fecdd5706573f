"""List endpoints bounded in bytes as well as count, and raw payloads served whole by their own endpoint."""

import dataclasses
import hashlib
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx

from serve_support import ServeProcess
from sigma_aetl.core.records import RawPayload
from sigma_aetl.http import create_app
from sigma_aetl.settings import Settings
from sigma_aetl.stores.sqlite.store import SqliteStore
from sigma_aetl.testing import ServerThread
from store_support import T0, accepted, failure

SettingsFactory = Callable[..., Settings]
CONTRACTS = Path(__file__).parents[2] / "contracts"
TEN_MB = 10 * 1024 * 1024


def _store_failures(path: Path, count: int, size: int) -> list[bytes]:
    """``count`` failures and accepted records of ``size`` raw bytes each, written into the SQLite file."""
    payloads = [bytes([65 + i]) * size for i in range(count)]
    store = SqliteStore(path, writer="inline")
    try:
        for i, raw in enumerate(payloads):
            at = T0 + timedelta(seconds=i)
            record = dataclasses.replace(accepted(f"S{i}", at=at), raw=RawPayload.of(raw))
            store.write([record], [dataclasses.replace(failure(f"k{i}", at), raw=RawPayload.of(raw))])
    finally:
        store.close()
    return payloads


def _memory(pid: int, field: str) -> int:
    """A ``VmRSS``/``VmHWM`` figure of process ``pid``, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field} for {pid}")


def test_ten_10_mb_failures_list_in_bounded_bytes_and_memory(tmp_path: Path) -> None:
    """GET /v1/failures?limit=10 over ten 10 MB failures answers under 1 MiB; the server grows under 60 MB."""
    payloads = _store_failures(tmp_path / "gateway.db", 10, TEN_MB)
    with ServeProcess(tmp_path, CONTRACTS) as serve:
        pid = serve.process.pid
        before = _memory(pid, "VmRSS")
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # the peak (VmHWM) restarts from now
        response = serve.http.get("/v1/failures", params={"limit": 10})
        grown = _memory(pid, "VmHWM") - before
        assert response.status_code == 200
        assert len(response.content) < 1024 * 1024
        page = response.json()
        assert len(page["items"]) == 10
        assert page["next_offset"] is None
        for item in page["items"]:
            assert item["raw"]["encoding"] == "omitted"
            assert item["raw"]["size"] == TEN_MB
            assert item["raw"]["text"] == f"/v1/failures/{item['failure_id']}/raw"
        assert grown < 60 * 1024 * 1024, f"the server grew by {grown / 2**20:.0f} MiB"
        served = serve.http.get(page["items"][0]["raw"]["text"])
    assert served.headers["content-type"] == "application/octet-stream"
    assert served.content in payloads
    assert served.headers["x-raw-sha256"] == hashlib.sha256(served.content).hexdigest()
    print(f"GET /v1/failures?limit=10: {len(response.content)} bytes, server peak +{grown / 2**20:.1f} MiB")


def test_pages_cut_by_bytes_continue_to_the_end(make_settings_for: SettingsFactory, tmp_path: Path) -> None:
    """With max_page_bytes, failures and records come in pages within it; next_offset and next_cursor
    reach every one once, and each raw link serves the bytes exactly."""
    settings = make_settings_for(max_page_bytes=65_536, max_inline_raw_bytes=1000)
    payloads = _store_failures(tmp_path / "gateway.db", 12, 20_000)
    with ServerThread(create_app(settings)) as server, httpx.Client(base_url=server.url) as client:
        failures, offset = [], 0
        while offset is not None:
            page = client.get("/v1/failures", params={"offset": offset}).json()
            failures += page["items"]
            offset = page["next_offset"]
        records, cursor = [], None
        while True:
            answer = client.get("/v1/records", params={"cursor": cursor} if cursor else {})
            assert len(answer.content) <= 65_536
            records += answer.json()["items"]
            if (cursor := answer.json()["next_cursor"]) is None:
                break
        links = [item["raw"]["text"] for item in failures + records]
        served = {client.get(link).content for link in links}
    assert len({item["failure_id"] for item in failures}) == len(failures) == 12
    assert len({item["record_id"] for item in records}) == len(records) == 12
    assert served == set(payloads)


def test_a_raw_endpoint_for_an_unknown_id_is_404(make_settings_for: SettingsFactory) -> None:
    """GET /v1/failures/{id}/raw and /v1/records/{id}/raw of an id not stored are 404 problem details."""
    with ServerThread(create_app(make_settings_for())) as server, httpx.Client(base_url=server.url) as client:
        for path in ("/v1/failures/fail_nope/raw", "/v1/records/rec_nope/raw"):
            response = client.get(path)
            assert response.status_code == 404
            assert response.headers["content-type"] == "application/problem+json"
