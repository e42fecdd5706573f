"""``/v1/replays``: a replay as a background job over HTTP, its progress, lineage and resolutions shown
beside the records they link, problems for bad input, and scope admin."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from replay_support import v2_shaped
from sigma_aetl.http import create_app
from sigma_aetl.settings import Settings
from sigma_aetl.stores import Store, open_store
from sigma_aetl.stores.base import STALLED_AFTER
from sigma_aetl.stores.keys import issue
from sigma_aetl.testing import JSON_HEADERS, VALID_SHIPMENT, ServerThread, wait_until

TO_V2 = {"to": "shipment@2", "contract": "shipment", "version": 1, "allow_draft": True}


@pytest.fixture
def http(settings: Settings) -> Iterator[httpx.Client]:
    """A client of a real gateway on the test's own store."""
    with (
        ServerThread(create_app(settings)) as server,
        httpx.Client(base_url=server.url, timeout=30, headers=JSON_HEADERS) as client,
    ):
        yield client


def send_to_v1(http: httpx.Client, count: int) -> list[str]:
    """POST ``count`` v2-shaped shipments to shipment@1 (the producer bug); their failure ids."""
    answers = [http.post("/v1/ingest/shipment/1", content=v2_shaped(n)).json() for n in range(count)]
    assert all(answer["status"] == "FAILED" for answer in answers)
    return [str(answer["failure_id"]) for answer in answers]


def finished(http: httpx.Client, location: str) -> dict[str, Any]:
    """The run at ``location`` once it is no longer running."""
    wait_until(lambda: http.get(location).json()["state"] != "running", 30, "the replay to finish")
    run: dict[str, Any] = http.get(location).json()
    return run


def test_a_replay_runs_in_the_background_and_links_records_and_failures(http: httpx.Client) -> None:
    """POST answers 202 with the run and its Location; the job replays every failure; each record shows
    its lineage and each failure its resolution; the run is listed."""
    failure_ids = send_to_v1(http, 5)
    started = http.post("/v1/replays", json=TO_V2)
    assert started.status_code == 202, started.text
    run = started.json()
    assert started.headers["location"] == f"/v1/replays/{run['replay_id']}"
    assert (run["target"], run["total"]) == ("shipment@2", 5)
    done = finished(http, started.headers["location"])
    assert done["state"] == "done"
    assert done["summary"]["replayed"] == 5
    for failure_id in failure_ids:
        failure = http.get(f"/v1/failures/{failure_id}").json()
        [resolution] = failure["resolutions"]
        assert resolution["replay_id"] == run["replay_id"]
        record = http.get(f"/v1/records/{resolution['record_id']}").json()
        assert record["version"] == 2
        assert record["lineage"]["replayed_from"] == failure_id
        assert record["lineage"]["fingerprint"] == run["target_fingerprint"]
    assert [listed["replay_id"] for listed in http.get("/v1/replays").json()] == [run["replay_id"]]


def test_records_and_failures_without_replays_are_served_as_before(http: httpx.Client) -> None:
    """A record no replay wrote has no lineage member, and a failure no replay resolved no resolutions."""
    record_id = http.post("/v1/ingest/shipment/1", content=VALID_SHIPMENT).json()["record_id"]
    [failure_id] = send_to_v1(http, 1)
    assert "lineage" not in http.get(f"/v1/records/{record_id}").json()
    assert "resolutions" not in http.get(f"/v1/failures/{failure_id}").json()


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"to": "shipment@9"}, "no version '9'"),
        ({"to": "shipment@2"}, "is a draft"),
        ({"to": "nothing"}, "not NAME@VERSION"),
        ({"to": "shipment@2", "surprise": 1}, ""),
        ({"to": "shipment@2", "since": "yesterday"}, ""),
        ({"to": "shipment@2", "version": 0}, ""),
        ({}, ""),
    ],
)
def test_bad_replay_requests_are_422_problems(http: httpx.Client, body: dict[str, Any], detail: str) -> None:
    """An unknown or draft target, an unknown member or a bad filter is a 422 problem; nothing starts."""
    response = http.post("/v1/replays", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert detail in response.json()["detail"]
    assert http.get("/v1/replays").json() == []


def test_unknown_replays_and_bad_pages_are_problems(http: httpx.Client) -> None:
    """An unknown replay id is 404; a limit or offset out of range is 422."""
    assert http.get("/v1/replays/rpl_unknown").status_code == 404
    assert http.get("/v1/replays?limit=0").status_code == 422
    assert http.get("/v1/replays?offset=-1").status_code == 422


def test_replays_need_the_admin_scope(settings: Settings) -> None:
    """Once keys exist, a read key is refused (403) on every replay route and an admin key is served."""
    keys: Store = open_store(settings.store_url)
    try:
        read, admin = issue(keys, "reader", ["read"]).token, issue(keys, "operator", ["admin"]).token
    finally:
        keys.close()
    with ServerThread(create_app(settings)) as server, httpx.Client(base_url=server.url) as client:
        for token, allowed in ((read, False), (admin, True)):
            headers = {**JSON_HEADERS, "authorization": f"Bearer {token}"}
            post = client.post("/v1/replays", json={"to": "shipment@9"}, headers=headers)
            listed = client.get("/v1/replays", headers=headers)
            one = client.get("/v1/replays/rpl_x", headers=headers)
            assert (post.status_code, listed.status_code, one.status_code) == (
                (422, 200, 404) if allowed else (403, 403, 403)
            )


def test_a_dry_run_over_http_stores_only_its_run(http: httpx.Client) -> None:
    """A dry run started over HTTP counts what a replay would do, stores its run to be read, and no record."""
    send_to_v1(http, 3)
    started = http.post("/v1/replays", json={**TO_V2, "dry_run": True})
    assert started.status_code == 202, started.text
    done = finished(http, started.headers["location"])
    assert (done["dry_run"], done["summary"]["would_pass"], done["summary"]["replayed"]) == (True, 3, 3)
    assert http.get("/v1/stats").json()["accepted_total"] == 0


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_body_that_is_not_json_starts_nothing(http: httpx.Client, content_type: str | None) -> None:
    """A body a web page could send cross-site without asking (not JSON) is a 422 problem; nothing starts."""
    headers = {"content-type": content_type} if content_type else {}
    request = http.build_request("POST", "/v1/replays", content=b'{"to": "shipment@1"}', headers=headers)
    if content_type is None:
        del request.headers["content-type"]
    assert http.send(request).status_code == 422
    assert http.get("/v1/replays").json() == []


def test_ingestion_goes_on_while_a_replay_runs(http: httpx.Client) -> None:
    """Events ingested while a replay of thousands of failures runs are all stored, and the replay stores
    every one of its records: the job writes beside the gateway's writer, neither waits for the other."""
    batch = b"".join(v2_shaped(n) + b"\n" for n in range(3000))
    ndjson = {"content-type": "application/x-ndjson"}
    assert http.post("/v1/ingest/shipment/1", content=batch, headers=ndjson).status_code == 200
    started = http.post("/v1/replays", json=TO_V2)
    assert started.status_code == 202
    shipment = b'{"shipment_id": "LIVE-%d", "weight_kg": 2.5, "destination": "Cork", "priority": 1}'
    answers = [http.post("/v1/ingest/shipment/1", content=shipment % n).json() for n in range(40)]
    assert all(answer["status"] == "PASSED" for answer in answers)
    done = finished(http, started.headers["location"])
    assert (done["state"], done["summary"]["replayed"]) == ("done", 3000)
    stats = http.get("/v1/stats").json()
    assert stats["accepted_by_contract"] == {"shipment@1": 40, "shipment@2": 3000}


def test_a_run_whose_process_died_is_shown_stalled(settings: Settings, http: httpx.Client) -> None:
    """A run still ``running`` with no progress stored for ten minutes (its process was killed) is shown
    ``stalled``, in the list and alone; a run storing progress, or one that ended, is not."""
    send_to_v1(http, 2)
    done = finished(http, http.post("/v1/replays", json=TO_V2).headers["location"])
    store = open_store(settings.store_url)
    try:
        [stored] = store.list_replays()
        long_ago = datetime.now(UTC) - STALLED_AFTER - timedelta(seconds=1)
        for replay_id, at in (("rpl_dead", long_ago), ("rpl_alive", datetime.now(UTC))):
            update = {"replay_id": replay_id, "state": "running", "finished_at": None, "updated_at": at}
            store.save_replay(stored.model_copy(update=update))
    finally:
        store.close()
    listed = {run["replay_id"]: run["stalled"] for run in http.get("/v1/replays").json()}
    assert listed == {"rpl_dead": True, "rpl_alive": False, done["replay_id"]: False}
    assert http.get("/v1/replays/rpl_dead").json()["stalled"] is True
    assert done["updated_at"] is not None
