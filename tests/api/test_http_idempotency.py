"""Idempotency keys over HTTP: a retry writes nothing new; a key reused for other content loses nothing."""

import httpx

INGEST = "/v1/ingest/shipment/1"
NDJSON = {"content-type": "application/x-ndjson"}


def _post(client: httpx.Client, body: bytes, key: str, **headers: str) -> dict[str, object]:
    answer: dict[str, object] = client.post(
        INGEST, content=body, headers={"Idempotency-Key": key, **headers}
    ).json()
    return answer


def test_a_key_reused_for_other_failing_bytes_stores_them_apart(client: httpx.Client) -> None:
    """A second failing payload under a used key is stored as its own failure, naming the first."""
    first = _post(client, b'{"first":1}', "k-reused")
    second = _post(client, b'"second"', "k-reused")
    assert second["duplicate"] is False
    assert second["failure_id"] != first["failure_id"]
    stored = client.get(f"/v1/failures/{second['failure_id']}").json()
    assert stored["raw"]["text"] == '"second"'
    assert stored["conflicts_with"] == first["failure_id"]
    assert stored["root_cause"] == "not_an_object"
    assert stored["errors"] == second["errors"]
    assert "idempotency_key_reused" in [e["type"] for e in stored["errors"]]
    kept = client.get(f"/v1/failures/{first['failure_id']}").json()
    assert kept["raw"]["text"] == '{"first":1}'


def test_retrying_the_reused_key_writes_nothing_new(client: httpx.Client) -> None:
    """Retrying either payload of a reused key hits the id it got the first time."""
    first = _post(client, b'{"first":1}', "k-retry")
    second = _post(client, b'"second"', "k-retry")
    again_second = _post(client, b'"second"', "k-retry")
    again_first = _post(client, b'{"first":1}', "k-retry")
    assert (again_second["failure_id"], again_second["duplicate"]) == (second["failure_id"], True)
    assert (again_first["failure_id"], again_first["duplicate"]) == (first["failure_id"], True)
    assert client.get("/v1/stats").json()["failures_total"] == 2


def test_a_reused_key_within_one_batch_request_is_not_confused(client: httpx.Client) -> None:
    """A batch resent under its key with an event changed stores the changed event apart."""
    headers = {**NDJSON, "Idempotency-Key": "batch-9"}
    first = client.post(INGEST, content=b'{"a":1}\n{"b":2}', headers=headers).json()["results"]
    again = client.post(INGEST, content=b'{"a":1}\n{"c":3}', headers=headers).json()["results"]
    assert again[0] == first[0] | {"duplicate": True}
    assert again[1]["duplicate"] is False
    assert again[1]["failure_id"] != first[1]["failure_id"]
    assert client.get(f"/v1/failures/{again[1]['failure_id']}").json()["raw"]["text"] == '{"c":3}'


def test_a_single_key_cannot_forge_a_batch_events_id(client: httpx.Client) -> None:
    """An event keyed ``batch-7#0`` and event 0 of a batch keyed ``batch-7`` are two failures, both kept."""
    single = _post(client, b'{"single":1}', "batch-7#0")
    batch = client.post(
        INGEST, content=b'{"batched":1}\n', headers={**NDJSON, "Idempotency-Key": "batch-7"}
    ).json()["results"][0]
    assert batch["duplicate"] is False
    assert batch["failure_id"] != single["failure_id"]
    texts = {client.get(f"/v1/failures/{o['failure_id']}").json()["raw"]["text"] for o in (single, batch)}
    assert texts == {'{"single":1}', '{"batched":1}'}


def test_a_key_retried_with_the_same_json_differently_spaced_is_a_duplicate(client: httpx.Client) -> None:
    """The same JSON value re-serialised with other whitespace is the same event, not a reuse."""
    first = _post(client, b'{"first": 1}', "k-space")
    again = _post(client, b'{ "first":1 }\n', "k-space")
    assert (again["failure_id"], again["duplicate"]) == (first["failure_id"], True)
