"""The diagnosis routes: a real `serve`, the CLI beside it, and the class route over a class-keeping store."""

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.conftest import CONTRACTS, make_settings
from cli_support import clean_environ
from serve_support import ServeProcess
from sigma_aetl.contracts.loader import load_registry
from sigma_aetl.core.classes import class_id_of
from sigma_aetl.core.envelope import Envelope
from sigma_aetl.http import create_app
from sigma_aetl.ingest.gateway import Gateway
from sigma_aetl.ingest.pipeline import Pipeline
from sigma_aetl.stores.keys import issue
from sigma_aetl.stores.sqlite import SqliteStore

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
V2 = b'{"shipment_id": "S-%d", "weight_kg": 3, "destination": "Cork", "service_level": "express"}'


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServeProcess, str]]:
    """A real `serve` holding one failure: a shipment@2-shaped event sent to shipment@1; and its id."""
    with ServeProcess(tmp_path_factory.mktemp("diagnosis"), CONTRACTS) as running:
        answer = running.http.post("/v1/ingest/shipment/1", content=V2 % 1)
        assert answer.json()["status"] == "FAILED", answer.text
        yield running, answer.json()["failure_id"]


def explain(store: Path, subject: str) -> bytes:
    """``sigma-aetl failures explain SUBJECT --json`` in a process of its own: its stdout."""
    argv = [
        sys.executable,
        "-m",
        "sigma_aetl",
        "--store",
        f"sqlite:///{store}",
        "--contracts",
        str(CONTRACTS),
    ]
    done = subprocess.run(
        [*argv, "failures", "explain", subject, "--json"],
        capture_output=True,
        env=clean_environ(),
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_v2_event_sent_to_v1_is_diagnosed_as_passing_v2(served: tuple[ServeProcess, str]) -> None:
    """Over HTTP, the failure's diagnosis says it passes shipment@2, with a hint per error."""
    running, failure_id = served
    answer = running.http.get(f"/v1/failures/{failure_id}/diagnosis")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert "passes shipment@2: the producer is sending shipment@2 payloads to shipment@1" in body["summary"]
    assert [p["contract"] for p in body["would_pass_as"]["passes"]] == ["shipment@2"]
    assert [(e["path"], bool(e["hint"])) for e in body["errors"]] == [
        ("priority", True),
        ("service_level", True),
    ]


def test_the_diagnosis_is_byte_identical_across_calls_and_processes(served: tuple[ServeProcess, str]) -> None:
    """Two HTTP calls give the same bytes; two CLI processes give the same bytes, and the same diagnosis."""
    running, failure_id = served
    first, second = (running.http.get(f"/v1/failures/{failure_id}/diagnosis").content for _ in range(2))
    assert first == second
    once, twice = explain(running.store, failure_id), explain(running.store, failure_id)
    assert once == twice
    assert json.loads(once) == json.loads(first)


@pytest.mark.parametrize(
    "path",
    [
        "/v1/failures/fail_00000000000000000000000000000000/diagnosis",
        "/v1/failures/rec_1/diagnosis",
        "/v1/failure-classes/cls_nope/diagnosis",
        "/v1/failure-classes/fail_00000000000000000000000000000000/diagnosis",
    ],
)
def test_an_unknown_id_is_a_404_problem(served: tuple[ServeProcess, str], path: str) -> None:
    """An id no failure or class has, or one of the wrong kind, is a 404 problem."""
    answer = served[0].http.get(path)
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"


def test_the_class_route_diagnoses_a_class(tmp_path: Path) -> None:
    """Over HTTP, a class's diagnosis judges its samples: all of them pass shipment@2."""
    settings = make_settings(tmp_path)
    registry = load_registry(CONTRACTS)
    store = SqliteStore(tmp_path / "gateway.db", writer="inline")
    app = create_app(settings, Gateway(settings, registry, store, Pipeline(registry, store)))
    try:
        body = asyncio.run(_ingest_then_diagnose(app))
    finally:
        store.close()
    assert body["subject"] == "class"
    assert body["would_pass_as"]["words"].startswith("All 3 samples pass shipment@2")
    assert [p["verdict"] for p in body["drift"]["producers"]] == ["new"]


async def _ingest_then_diagnose(app: Any) -> Any:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        headers = {"content-type": "application/json"}
        for i in range(3):
            answer = await client.post("/v1/ingest/shipment/1", content=V2 % i, headers=headers)
            assert answer.json()["status"] == "FAILED"
        failure_id = answer.json()["failure_id"]
        class_id = (await client.get(f"/v1/failures/{failure_id}/diagnosis")).json()["class_id"]
        answer = await client.get(f"/v1/failure-classes/{class_id}/diagnosis")
        assert answer.status_code == 200, answer.text
        return answer.json()


def test_the_routes_need_the_read_scope(tmp_path: Path) -> None:
    """With API keys, a `read` key is served the diagnosis routes; an ingest-only key is refused (403)."""
    settings = make_settings(tmp_path)
    registry = load_registry(CONTRACTS)
    store = SqliteStore(tmp_path / "gateway.db", writer="inline")
    tokens = {scope: issue(store, scope, [scope]).token for scope in ("read", "ingest:shipment")}
    app = create_app(settings, Gateway(settings, registry, store, Pipeline(registry, store)))
    paths = [f"/v1/failures/fail_{'0' * 32}/diagnosis", f"/v1/failure-classes/cls_{'0' * 32}/diagnosis"]
    try:
        statuses = asyncio.run(_statuses(app, paths, tokens))
    finally:
        store.close()
    assert statuses == {"read": [404, 404], "ingest:shipment": [403, 403], "none": [401, 401]}


async def _statuses(app: Any, paths: list[str], tokens: dict[str, str]) -> dict[str, list[int]]:
    transport = httpx.ASGITransport(app=app)
    found: dict[str, list[int]] = {}
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        for who, token in [*tokens.items(), ("none", "")]:
            headers = {"authorization": f"Bearer {token}"} if token else {}
            found[who] = [(await client.get(path, headers=headers)).status_code for path in paths]
    return found


def test_client_addresses_need_read_raw(tmp_path: Path) -> None:
    """A `read` key sees a class's client producers masked, as in a failure's source; read:raw sees them."""
    settings = make_settings(tmp_path)
    registry = load_registry(CONTRACTS)
    store = SqliteStore(tmp_path / "gateway.db", writer="inline")
    tokens = {scope: issue(store, scope, [scope]).token for scope in ("read", "read:raw")}
    source = {"kind": "http", "client": "10.0.0.7:51234"}
    envelope = Envelope(raw=V2 % 1, contract="shipment", version="1", received_at=T0, source=source)
    (outcome,) = Pipeline(registry, store).process([envelope])
    failure = store.get_failure(outcome.failure_id or "")
    assert failure is not None
    app = create_app(settings, Gateway(settings, registry, store, Pipeline(registry, store)))
    path = f"/v1/failure-classes/{class_id_of(failure)}/diagnosis"
    try:
        bodies = asyncio.run(_bodies(app, path, tokens))
    finally:
        store.close()
    producers = {who: body["drift"]["producers"][0] for who, body in bodies.items()}
    assert producers["read"]["producer"] == "client:(masked)"
    assert "10.0.0.7" not in json.dumps(bodies["read"])
    assert producers["read:raw"]["producer"] == "client:10.0.0.7"


async def _bodies(app: Any, path: str, tokens: dict[str, str]) -> dict[str, Any]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        return {
            who: (await client.get(path, headers={"authorization": f"Bearer {token}"})).json()
            for who, token in tokens.items()
        }
