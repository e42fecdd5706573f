"""The issue's "done when", through a real ``sigma-aetl serve`` and keys made by the CLI: no key → 401,
wrong scope → 403, right scope → 200, revoked → 401, on /api/validate, /v1/ingest, /v1/failures,
/v1/stats and /docs."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from cli_support import CONTRACTS, clean_environ
from serve_support import ServeProcess
from sigma_aetl.testing import INVALID_SHIPMENT, wait_until

BOUND = 5.0
"""Well past auth_cache_seconds (1 s), for a loaded machine."""


def keys_cli(store: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``sigma-aetl keys ...`` as its own process on the serve's store."""
    command = [sys.executable, "-m", "sigma_aetl", "--store", f"sqlite:///{store}", "keys", *args]
    return subprocess.run(command, capture_output=True, text=True, env=clean_environ(), check=False)


def create(store: Path, name: str, *scopes: str) -> dict[str, Any]:
    """A key made by ``keys create --json``."""
    given = [part for scope in scopes for part in ("--scope", scope)]
    done = keys_cli(store, "create", "--name", name, *given, "--json")
    assert done.returncode == 0, done.stderr
    created: dict[str, Any] = json.loads(done.stdout)
    return created


def test_keys_made_by_the_cli_guard_every_endpoint_of_a_running_serve(tmp_path: Path) -> None:
    """Open until a key exists; then 401 without one, 403 with the wrong scope, 200 with the right one,
    and 401 once revoked, on every guarded endpoint; /healthz stays open."""
    with ServeProcess(tmp_path, CONTRACTS) as served:
        http = served.http
        assert http.post("/v1/ingest/shipment/1", content=INVALID_SHIPMENT).status_code == 200
        assert served.events("gateway.open"), "serve did not warn that it is open"
        # /api/validate checks its default contract, shipment_compat@1: ingesting needs that contract's scope
        producer = create(served.store, "shop", "ingest:shipment", "ingest:shipment_compat")
        reader = create(served.store, "analyst", "read")
        wait_until(lambda: http.get("/v1/stats").status_code == 401, BOUND, "the gateway to close")
        routes = [
            ("POST", "/api/validate", producer, reader),
            ("POST", "/v1/ingest/shipment/1", producer, reader),
            ("GET", "/v1/failures", reader, producer),
            ("GET", "/v1/stats", reader, producer),
            ("GET", "/docs", reader, producer),
        ]
        for method, path, right, wrong in routes:
            assert status(http, method, path, None) == 401, path
            assert status(http, method, path, wrong["token"]) == 403, path
            assert status(http, method, path, right["token"]) == 200, path
        assert http.get("/healthz").status_code == 200
        for key in (producer, reader):
            assert keys_cli(served.store, "revoke", key["id"]).returncode == 0
        token = reader["token"]
        wait_until(lambda: status(http, "GET", "/v1/stats", token) == 401, BOUND, "the revocation")
        for method, path, right, _ in routes:
            assert status(http, method, path, right["token"]) == 401, path


def status(http: httpx.Client, method: str, path: str, token: str | None) -> int:
    """The status of one request with ``token`` as its bearer (none without one)."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    body = INVALID_SHIPMENT if method == "POST" else None
    return http.request(method, path, content=body, headers=headers).status_code
