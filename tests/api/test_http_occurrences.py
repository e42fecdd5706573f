"""Occurrences over HTTP: bare resends count as arrivals, keyed retries do not; the API shows both counts."""

import httpx

from sigma_aetl.testing import INVALID_SHIPMENT, TRUNCATED

INGEST = "/v1/ingest/shipment/1"


def test_bare_resends_count_and_keyed_retries_do_not(client: httpx.Client) -> None:
    """Three bare posts of the same bad bytes are one failure with three arrivals, each request's id among
    the latest; three retries with one Idempotency-Key are one arrival; stats count records and arrivals."""
    bare = [
        client.post(INGEST, content=TRUNCATED, headers={"x-request-id": f"req-{n}"}).json() for n in range(3)
    ]
    keyed = [
        client.post(INGEST, content=INVALID_SHIPMENT, headers={"idempotency-key": "k-1"}).json()
        for _ in range(3)
    ]
    assert [o["duplicate"] for o in bare] == [o["duplicate"] for o in keyed] == [False, True, True]
    flood = client.get(f"/v1/failures/{bare[0]['failure_id']}").json()
    assert flood["identified_by"] == "raw"
    assert flood["source"]["request_id"] == "req-0"  # the record is its first arrival
    assert flood["occurrences"]["count"] == 3
    assert [a["source"]["request_id"] for a in flood["occurrences"]["latest"]] == ["req-0", "req-1", "req-2"]
    assert flood["occurrences"]["first_seen"] <= flood["occurrences"]["last_seen"]
    retried = client.get(f"/v1/failures/{keyed[0]['failure_id']}").json()
    assert (retried["identified_by"], retried["occurrences"]["count"]) == ("key", 1)
    page = client.get("/v1/failures").json()
    assert sorted(item["occurrences"]["count"] for item in page["items"]) == [1, 3]
    stats = client.get("/v1/stats").json()
    assert (stats["failures_total"], stats["failure_occurrences_total"]) == (2, 4)
    assert stats["failure_occurrences_by_root_cause"] == {"malformed_json": 3, "missing_field": 1}
