"""Numbers exactly as sent, over HTTP: a number a float would round is a failure, never a rounded record."""

import httpx

INGEST = "/v1/ingest/shipment/1"
HEAVY_BY_A_ROUNDING = (
    b'{"shipment_id": "S-R", "weight_kg": 1000.0000000000000001, "destination": "Cork", "priority": 1}'
)


def test_a_weight_past_the_rule_by_a_rounding_is_not_stored_rounded(client: httpx.Client) -> None:
    """``1000.0000000000000001`` against ``weight_kg <= 1000`` fails as an inexact number, with its bytes."""
    outcome = client.post(INGEST, content=HEAVY_BY_A_ROUNDING).json()
    assert outcome["status"] == "FAILED"
    assert outcome["root_cause"] == "constraint_violation"
    assert [(e["path"], e["type"]) for e in outcome["errors"]] == [("weight_kg", "inexact_number")]
    stored = client.get(f"/v1/failures/{outcome['failure_id']}").json()
    assert stored["raw"]["text"].encode() == HEAVY_BY_A_ROUNDING
    assert client.get("/v1/stats").json()["accepted_total"] == 0


def test_a_floats_shortest_form_is_accepted_as_sent(client: httpx.Client) -> None:
    """A weight written as a float's shortest form (``0.30000000000000004``) is accepted and kept as sent."""
    body = b'{"shipment_id": "S-F", "weight_kg": 0.30000000000000004, "destination": "Cork", "priority": 1}'
    outcome = client.post(INGEST, content=body).json()
    assert outcome["status"] == "PASSED"
    record = client.get(f"/v1/records/{outcome['record_id']}").json()
    assert record["data"]["weight_kg"] == 0.30000000000000004
