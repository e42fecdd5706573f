"""``POST /api/validate`` takes what the seed n8n workflow sends: its Code node's payload (the four shipment
fields and a ``raw_payload`` copy of them) passes against the default ``shipment_compat@1``, which names the
field it ignored; errors carry the original validator's keys; ``shipment@1`` on ``/v1/ingest`` is unchanged.
Each test runs on the fast path and the FastAPI routes (the ``client`` fixture)."""

from typing import Any

import httpx

from strategies import SHIPMENT_FIELDS


def code_node_payload(message: dict[str, Any]) -> dict[str, Any]:
    """The seed's "ONE Code node": each shipment field or null, then ``raw_payload`` holding the four."""
    fields = {name: message.get(name) for name in SHIPMENT_FIELDS}
    return {**fields, "raw_payload": dict(fields)}


VALID = {"shipment_id": "SHIP-1", "weight_kg": 12.5, "destination": "Dublin", "priority": 2}


def test_the_seed_payload_passes_and_names_what_it_ignored(client: httpx.Client) -> None:
    """A valid shipment as the Code node sends it answers PASSED, clean_data without raw_payload, and
    ignored_fields naming it."""
    answer = client.post("/api/validate", json=code_node_payload(VALID)).json()
    assert answer == {
        "status": "PASSED",
        "clean_data": dict(sorted(VALID.items())),
        "ignored_fields": ["raw_payload"],
    }


def test_an_invalid_seed_payload_fails_with_its_root_cause(client: httpx.Client) -> None:
    """An invalid shipment as the Code node sends it answers FAILED with its own root cause, not
    unexpected_field, so the workflow's IF sends it to the FALSE path (the Code node's null priority is
    the primary cause, a type mismatch)."""
    payload = code_node_payload({"shipment_id": "SHIP-2", "weight_kg": -5, "destination": "Cork"})
    answer = client.post("/api/validate", json=payload).json()
    assert (answer["status"], answer["root_cause"]) == ("FAILED", "type_mismatch")
    assert {error["path"] for error in answer["errors"]} == {"weight_kg", "priority"}
    assert answer["ignored_fields"] == ["raw_payload"]
    assert answer["received_payload"] == payload


def test_errors_carry_the_original_validators_keys(client: httpx.Client) -> None:
    """Each error has type, loc, msg and input (the value as received) besides its own keys."""
    payload = {"shipment_id": "SHIP-3", "weight_kg": -5, "destination": "Cork"}
    errors = {e["path"]: e for e in client.post("/api/validate", json=payload).json()["errors"]}
    weight, priority = errors["weight_kg"], errors["priority"]
    assert (weight["type"], weight["loc"], weight["input"], weight["msg"]) == (
        "greater_than",
        ["weight_kg"],
        -5,
        weight["message"],
    )
    assert {"root_cause", "stage", "explanation", "constraint"} <= set(weight)
    assert (priority["type"], priority["loc"], priority["input"]) == ("missing", ["priority"], payload)


def test_the_input_of_a_business_rule_error_is_the_value(client: httpx.Client) -> None:
    """A business-rule error's input is the value the rule read; msg is the rule's message."""
    payload = code_node_payload({**VALID, "weight_kg": 1500})
    [error] = client.post("/api/validate", json=payload).json()["errors"]
    assert (error["type"], error["input"], error["msg"]) == ("business_rule", 1500, error["message"])


def test_a_number_sent_as_text_is_not_coerced(client: httpx.Client) -> None:
    """A deliberate difference from the original: "2" is not the number 2 (no implicit mutation)."""
    answer = client.post("/api/validate", json=code_node_payload({**VALID, "priority": "2"})).json()
    assert answer["status"] == "FAILED"
    [error] = answer["errors"]
    assert (error["path"], error["root_cause"], error["input"]) == ("priority", "type_mismatch", "2")


def test_malformed_json_error_input_is_the_text(client: httpx.Client) -> None:
    """Text that is not JSON: the error's input is the text received, as Pydantic reports json_invalid."""
    [error] = client.post("/api/validate", content=b'{"shipment_id": ').json()["errors"]
    assert (error["msg"], error["input"]) == (error["message"], '{"shipment_id": ')


def test_shipment_v1_on_ingest_still_rejects_the_extra_field(client: httpx.Client) -> None:
    """The released shipment@1 is unchanged: on /v1/ingest the same payload fails as unexpected_field."""
    outcome = client.post("/v1/ingest/shipment/1", json=code_node_payload(VALID)).json()
    assert (outcome["status"], outcome["root_cause"]) == ("FAILED", "unexpected_field")
