"""Batches over HTTP: NDJSON and JSON arrays, one outcome per event, in order."""

import base64

import httpx
from hypothesis import given
from hypothesis import strategies as st

from core.test_batches import unaccounted
from sigma_aetl.http.envelopes import is_batch, split_batch
from sigma_aetl.http.mediatypes import INGEST_TYPES
from sigma_aetl.http.view import RequestView
from sigma_aetl.testing import EXTRA_FIELD, HEAVY_SHIPMENT, INVALID_SHIPMENT, INVALID_UTF8, VALID_SHIPMENT
from strategies import batch_bodies

INGEST = "/v1/ingest/shipment/1"
NDJSON = {"content-type": "application/x-ndjson"}


def test_ndjson_batch_answers_in_order(client: httpx.Client) -> None:
    """An NDJSON batch answers one outcome per non-blank line, in order, with a summary."""
    body = b"\n".join([VALID_SHIPMENT, b"", INVALID_SHIPMENT, HEAVY_SHIPMENT + b"\r", EXTRA_FIELD]) + b"\n"
    answer = client.post(INGEST, content=body, headers=NDJSON).json()
    statuses = [(r["status"], r["root_cause"]) for r in answer["results"]]
    assert statuses == [
        ("PASSED", None),
        ("FAILED", "missing_field"),
        ("FAILED", "business_rule_violation"),
        ("FAILED", "unexpected_field"),
    ]
    assert answer["summary"] == {"events": 4, "accepted": 1, "failed": 3, "duplicates": 0}


def test_array_elements_keep_their_exact_bytes(client: httpx.Client) -> None:
    """Each element of a JSON array batch is stored with exactly the bytes it had in the body."""
    element = b'{ "shipment_id" : "S-9",  "weight_kg": 0, "destination":"X", "priority":1 }'
    body = b"[ " + VALID_SHIPMENT + b" ,\n " + element + b" , " + INVALID_UTF8 + b" ]"
    answer = client.post(INGEST, content=body).json()
    assert [r["status"] for r in answer["results"]] == ["PASSED", "FAILED", "FAILED"]
    second = client.get(f"/v1/failures/{answer['results'][1]['failure_id']}").json()
    third = client.get(f"/v1/failures/{answer['results'][2]['failure_id']}").json()
    assert second["raw"]["text"].encode() == element
    assert second["source"]["index"] == 1
    assert base64.b64decode(third["raw"]["text"]) == INVALID_UTF8


def test_replayed_batch_writes_nothing_new(client: httpx.Client) -> None:
    """Sending the same batch twice makes every outcome of the second a duplicate."""
    body = b"\n".join([VALID_SHIPMENT, INVALID_SHIPMENT, HEAVY_SHIPMENT])
    first = client.post(INGEST, content=body, headers=NDJSON).json()
    second = client.post(INGEST, content=body, headers=NDJSON).json()
    assert first["summary"]["duplicates"] == 0
    assert second["summary"] == {"events": 3, "accepted": 0, "failed": 0, "duplicates": 3}
    assert [r["record_id"] or r["failure_id"] for r in first["results"]] == [
        r["record_id"] or r["failure_id"] for r in second["results"]
    ]


def test_malformed_array_is_one_failure(client: httpx.Client) -> None:
    """A body that starts as an array but is not one is a single malformed_json failure with every byte."""
    body = b"[" + VALID_SHIPMENT + b",]"
    answer = client.post(INGEST, content=body).json()
    assert len(answer["results"]) == 1
    assert answer["results"][0]["root_cause"] == "malformed_json"
    failure = client.get(f"/v1/failures/{answer['results'][0]['failure_id']}").json()
    assert failure["raw"]["text"].encode() == body


def test_idempotency_key_names_batch_events(client: httpx.Client) -> None:
    """With an Idempotency-Key, a resent batch maps to the same failure ids even if bytes differ."""
    headers = {**NDJSON, "Idempotency-Key": "batch-42"}
    first = client.post(INGEST, content=INVALID_SHIPMENT + b"\n" + HEAVY_SHIPMENT, headers=headers).json()
    again = client.post(
        INGEST, content=INVALID_SHIPMENT + b" \n" + HEAVY_SHIPMENT + b" ", headers=headers
    ).json()
    assert [r["failure_id"] for r in first["results"]] == [r["failure_id"] for r in again["results"]]
    assert all(r["duplicate"] for r in again["results"])


def test_json_seq_records_lose_their_separators(client: httpx.Client) -> None:
    """An RFC 7464 JSON text sequence is one event per record, each stored without its RS and LF."""
    records = [VALID_SHIPMENT, b"{not json", INVALID_SHIPMENT]
    body = b"".join(b"\x1e" + record + b"\n" for record in records)
    headers = {"content-type": "application/json-seq"}
    answer = client.post(INGEST, content=body, headers=headers).json()
    statuses = [(r["status"], r["root_cause"]) for r in answer["results"]]
    assert statuses == [("PASSED", None), ("FAILED", "malformed_json"), ("FAILED", "missing_field")]
    failure = client.get(f"/v1/failures/{answer['results'][1]['failure_id']}").json()
    assert failure["raw"]["text"].encode() == b"{not json"
    assert failure["source"]["index"] == 1


@given(body=batch_bodies, media_type=st.sampled_from([*INGEST_TYPES, "application/cloudevents+json"]))
def test_split_batch_never_loses_a_byte(body: bytes, media_type: str) -> None:
    """Whatever the body and ingest type, the split never raises, is the same each time, and every byte of
    the body is in an event or is a separator of its form (a body that is no batch is one whole event)."""
    view = RequestView("POST", INGEST, {"content-type": media_type}, None)
    if not is_batch(view, body):
        return
    events = split_batch(view, body)
    assert events == split_batch(view, body)
    assert unaccounted(body, events, b"\x1e[], \t\r\n") == b""
