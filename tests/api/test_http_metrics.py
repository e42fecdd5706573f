"""``GET /metrics`` on the gateway: its counts equal ``/v1/stats`` after a mixed load, scope ``read``."""

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx

from cli_support import CONTRACTS
from metrics_support import (
    ORDER_BAD_ITEM,
    V2_BAD_LEVEL,
    V2_VALID,
    assert_metrics_match_stats,
    names,
    samples,
)
from serve_support import ServeProcess
from sigma_aetl.contracts.loader import load_registry
from sigma_aetl.core.advisories import AdvisoryTarget
from sigma_aetl.http import create_app
from sigma_aetl.settings import Settings
from sigma_aetl.stores import open_store
from sigma_aetl.stores.keys import issue
from sigma_aetl.testing import (
    EXTRA_FIELD,
    HEAVY_SHIPMENT,
    INVALID_SHIPMENT,
    JSON_HEADERS,
    STRING_PRIORITY,
    TRUNCATED,
    VALID_SHIPMENT,
    ServerThread,
)

SettingsFactory = Callable[..., Settings]
NDJSON = {"content-type": "application/x-ndjson"}


def mixed_load(http: httpx.Client) -> None:
    """Single events and batches: valid, invalid of several root causes, duplicates, bare repeats, keyed
    retries, an identity conflict, an unknown version, an unknown contract, a nested error."""
    singles = [
        ("/v1/ingest/shipment/1", body)
        for body in (VALID_SHIPMENT, VALID_SHIPMENT, INVALID_SHIPMENT, INVALID_SHIPMENT, TRUNCATED)
    ]
    singles += [("/v1/ingest/shipment/1", body) for body in (HEAVY_SHIPMENT, STRING_PRIORITY, EXTRA_FIELD)]
    singles += [("/v1/ingest/shipment/1", VALID_SHIPMENT.replace(b"Dublin", b"Cork"))]  # identity conflict
    singles += [("/v1/ingest/shipment/99", VALID_SHIPMENT), ("/v1/ingest/nosuch/1", VALID_SHIPMENT)]
    singles += [("/v1/ingest/order/1", ORDER_BAD_ITEM)]
    for path, body in singles:
        assert http.post(path, content=body).status_code < 500
    for _ in range(2):
        keyed = http.post("/v1/ingest/shipment/1", content=INVALID_SHIPMENT, headers={"idempotency-key": "k"})
        assert keyed.status_code < 500
    lines = [V2_VALID, V2_BAD_LEVEL, V2_VALID, VALID_SHIPMENT, TRUNCATED, TRUNCATED]
    batch = b"\n".join(lines) + b"\n"
    for _ in range(2):  # the second batch: every event already stored (bare failures arrive again)
        assert http.post("/v1/ingest/shipment/2", content=batch, headers=NDJSON).status_code == 200


def test_metrics_match_stats_on_a_real_serve(tmp_path: Path) -> None:
    """After a mixed load on a real ``sigma-aetl serve``, ``/metrics`` counts equal ``/v1/stats`` exactly
    per contract version and per root cause (new failures, and failure arrivals)."""
    with ServeProcess(tmp_path, CONTRACTS) as serve:
        mixed_load(serve.http)
        stats = serve.http.get("/v1/stats").json()
        answer = serve.http.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    registered = {contract.ref for contract in load_registry(CONTRACTS).all()}
    assert_metrics_match_stats(answer.text, stats, registered)
    assert stats["failure_occurrences_total"] > stats["failures_total"]  # repeats were counted
    events = samples(answer.text, "sigma_aetl_events_total")
    assert {dict(labels)["source"] for labels in events} == {"http"}
    assert "sigma_aetl_group_commit_queue_depth" in names(answer.text)


def test_metrics_need_the_read_scope(make_settings_for: SettingsFactory) -> None:
    """Once a key exists, ``/metrics`` answers a bearer token with ``read``, 401 without one and 403 for
    a key that may only ingest."""
    settings = make_settings_for(auth_cache_seconds=0)
    keys = open_store(settings.store_url)
    try:
        reader, producer = issue(keys, "prometheus", ["read"]), issue(keys, "producer", ["ingest:shipment"])
    finally:
        keys.close()
    with (
        ServerThread(create_app(settings)) as server,
        httpx.Client(base_url=server.url, timeout=30, headers=JSON_HEADERS) as http,
    ):
        allowed = http.get("/metrics", headers={"authorization": f"Bearer {reader.token}"})
        refused = http.get("/metrics", headers={"authorization": f"Bearer {producer.token}"})
        anonymous = http.get("/metrics")
    assert allowed.status_code == 200
    assert "sigma_aetl_events_total" in names(allowed.text)
    assert (refused.status_code, refused.json()["required_scope"]) == (403, "read")
    assert anonymous.status_code == 401


def test_metrics_off_answers_404_and_counts_nothing(make_settings_for: SettingsFactory) -> None:
    """With ``metrics_enabled`` false, ``/metrics`` is a 404 problem and the pipeline has no observer."""
    app = create_app(make_settings_for(metrics_enabled=False))
    with (
        ServerThread(app) as server,
        httpx.Client(base_url=server.url, timeout=30, headers=JSON_HEADERS) as http,
    ):
        assert http.post("/v1/ingest/shipment/1", content=VALID_SHIPMENT).status_code == 200
        answer = http.get("/metrics")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert app.state.gateway.pipeline.observer is None


def test_the_advisory_queue_depth_is_read_from_the_store(make_settings_for: SettingsFactory) -> None:
    """``sigma_aetl_advisory_jobs{state}`` counts the store's advisory queue, every state present, even
    with no advisor in this process (a separate ``advisor run`` shares the queue)."""
    settings = make_settings_for()
    with (
        ServerThread(create_app(settings)) as server,
        httpx.Client(base_url=server.url, timeout=30, headers=JSON_HEADERS) as http,
    ):
        stored = http.post("/v1/ingest/shipment/1", content=INVALID_SHIPMENT).json()
        queue = open_store(settings.store_url)
        try:
            target = AdvisoryTarget(kind="failure", id=stored["failure_id"])
            queue.enqueue_advisories([target], datetime.now(UTC))
        finally:
            queue.close()
        jobs = samples(http.get("/metrics").text, "sigma_aetl_advisory_jobs")
    assert jobs == {
        (("state", "queued"),): 1.0,
        (("state", "leased"),): 0.0,
        (("state", "done"),): 0.0,
        (("state", "failed"),): 0.0,
    }
