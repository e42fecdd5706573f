"""The issue's acceptance cases, end to end through a real HTTP server."""

import base64

import httpx

from sigma_aetl.testing import (
    EXTRA_FIELD,
    HEAVY_SHIPMENT,
    INVALID_SHIPMENT,
    INVALID_UTF8,
    STRING_PRIORITY,
    TRUNCATED,
    VALID_SHIPMENT,
)

INGEST = "/v1/ingest/shipment/1"


def _stats(client: httpx.Client) -> dict[str, object]:
    stats: dict[str, object] = client.get("/v1/stats").json()
    return stats


def test_valid_shipment_sent_four_times_is_stored_once(client: httpx.Client) -> None:
    """A valid shipment sent four times yields exactly one accepted record and three duplicates."""
    outcomes = [client.post(INGEST, content=VALID_SHIPMENT).json() for _ in range(4)]
    assert {o["status"] for o in outcomes} == {"PASSED"}
    assert len({o["record_id"] for o in outcomes}) == 1
    assert [o["duplicate"] for o in outcomes] == [False, True, True, True]
    stats = _stats(client)
    assert stats["accepted_total"] == 1
    assert stats["failures_total"] == 0
    record = client.get(f"/v1/records/{outcomes[0]['record_id']}").json()
    assert record["data"] == {
        "destination": "Dublin",
        "priority": 2,
        "shipment_id": "SHIP-TRUE-003",
        "weight_kg": 15.2,
    }
    assert list(record["data"]) == sorted(record["data"])
    assert record["raw"]["text"].encode() == VALID_SHIPMENT
    assert record["fingerprint"].startswith("sha256:")
    assert record["source"]["kind"] == "http"


def test_invalid_shipment_is_one_failure_however_often_sent(client: httpx.Client) -> None:
    """The invalid shipment is a failure naming shipment_id, weight_kg and priority, stored once."""
    outcomes = [client.post(INGEST, content=INVALID_SHIPMENT).json() for _ in range(3)]
    assert {o["status"] for o in outcomes} == {"FAILED"}
    assert len({o["failure_id"] for o in outcomes}) == 1
    assert [o["duplicate"] for o in outcomes] == [False, True, True]
    paths = {error["path"]: error["root_cause"] for error in outcomes[0]["errors"]}
    assert paths == {
        "shipment_id": "constraint_violation",
        "weight_kg": "constraint_violation",
        "priority": "missing_field",
    }
    stats = _stats(client)
    assert stats["accepted_total"] == 0
    assert stats["failures_total"] == 1
    failure = client.get(f"/v1/failures/{outcomes[0]['failure_id']}").json()
    assert failure["raw"]["text"].encode() == INVALID_SHIPMENT
    assert failure["contract_ref"] == "shipment@1"
    assert failure["fingerprint"].startswith("sha256:")
    assert all(error["explanation"] for error in failure["errors"])


def test_each_bad_shipment_fails_with_its_root_cause(client: httpx.Client) -> None:
    """Heavy, string-priority and extra-field shipments fail with their own root causes and stage."""
    expected = {
        HEAVY_SHIPMENT: ("business_rule_violation", "business_rule"),
        STRING_PRIORITY: ("type_mismatch", "schema"),
        EXTRA_FIELD: ("unexpected_field", "schema"),
    }
    for payload, (cause, stage) in expected.items():
        outcome = client.post(INGEST, content=payload).json()
        assert (outcome["status"], outcome["root_cause"], outcome["stage"]) == ("FAILED", cause, stage)
    assert _stats(client)["accepted_total"] == 0


def test_truncated_and_invalid_utf8_keep_their_raw_bytes(client: httpx.Client) -> None:
    """Truncated JSON and invalid UTF-8 are stored as failures whose raw bytes are exactly those sent."""
    truncated = client.post(INGEST, content=TRUNCATED).json()
    broken = client.post(INGEST, content=INVALID_UTF8).json()
    assert truncated["root_cause"] == "malformed_json"
    assert broken["root_cause"] == "invalid_encoding"
    raw_truncated = client.get(f"/v1/failures/{truncated['failure_id']}").json()["raw"]
    raw_broken = client.get(f"/v1/failures/{broken['failure_id']}").json()["raw"]
    assert (raw_truncated["encoding"], raw_truncated["text"].encode()) == ("utf-8", TRUNCATED)
    assert raw_broken["encoding"] == "base64"
    assert base64.b64decode(raw_broken["text"]) == INVALID_UTF8
    assert raw_broken["size"] == len(INVALID_UTF8)


def test_identity_conflict_keeps_the_first_record(client: httpx.Client) -> None:
    """The same shipment_id with other content is an identity_conflict; the first record is untouched."""
    first = client.post(INGEST, content=VALID_SHIPMENT).json()
    changed = VALID_SHIPMENT.replace(b"15.2", b"15.3")
    conflict = client.post(INGEST, content=changed).json()
    again = client.post(INGEST, content=changed).json()
    assert conflict["root_cause"] == "identity_conflict"
    assert again["failure_id"] == conflict["failure_id"]
    assert again["duplicate"] is True
    stored = client.get(f"/v1/failures/{conflict['failure_id']}").json()
    assert stored["conflicts_with"] == first["record_id"]
    assert client.get(f"/v1/records/{first['record_id']}").json()["data"]["weight_kg"] == 15.2
