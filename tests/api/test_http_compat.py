"""``POST /api/validate`` answers as the original SIGMA-AETL validator did."""

import httpx

from sigma_aetl.testing import HEAVY_SHIPMENT, INVALID_SHIPMENT, TRUNCATED, VALID_SHIPMENT


def test_passed_answer_has_exactly_status_and_clean_data(client: httpx.Client) -> None:
    """A valid shipment answers 200 with only status and clean_data, as the seed did."""
    response = client.post(
        "/api/validate", json={"shipment_id": "S-1", "weight_kg": 2, "destination": "Oslo", "priority": 1}
    )
    assert response.status_code == 200
    assert response.json() == {
        "status": "PASSED",
        "clean_data": {"destination": "Oslo", "priority": 1, "shipment_id": "S-1", "weight_kg": 2},
    }


def test_schema_failure_reason_and_received_payload(client: httpx.Client) -> None:
    """A schema failure answers 200 FAILED with the seed's reason, every error and the payload."""
    body = client.post("/api/validate", content=INVALID_SHIPMENT).json()
    assert body["status"] == "FAILED"
    assert body["reason"] == "Schema validation failed"
    assert body["received_payload"] == {"shipment_id": "", "weight_kg": -5, "destination": "Dublin"}
    assert {error["path"] for error in body["errors"]} == {"shipment_id", "weight_kg", "priority"}


def test_business_rule_reason(client: httpx.Client) -> None:
    """A shipment over 1000 kg fails with the seed's business-rule reason."""
    body = client.post("/api/validate", content=HEAVY_SHIPMENT).json()
    assert (body["status"], body["reason"], body["root_cause"]) == (
        "FAILED",
        "Business rule violation",
        "business_rule_violation",
    )


def test_malformed_json_is_a_decision_not_an_http_error(client: httpx.Client) -> None:
    """Truncated JSON answers 200 FAILED with the text received, not a 4xx."""
    response = client.post("/api/validate", content=TRUNCATED)
    assert response.status_code == 200
    assert response.json()["received_payload"] == TRUNCATED.decode()
    assert response.json()["root_cause"] == "malformed_json"


def test_validate_stores_nothing(client: httpx.Client) -> None:
    """The compatibility endpoint is stateless: nothing reaches the store."""
    client.post("/api/validate", content=VALID_SHIPMENT)
    client.post("/api/validate", content=INVALID_SHIPMENT)
    stats = client.get("/v1/stats").json()
    assert (stats["accepted_total"], stats["failures_total"]) == (0, 0)


def test_answers_are_deterministic(client: httpx.Client) -> None:
    """The same body gets byte-identical answers."""
    answers = {client.post("/api/validate", content=INVALID_SHIPMENT).content for _ in range(3)}
    assert len(answers) == 1
