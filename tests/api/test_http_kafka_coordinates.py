"""``X-Kafka-Topic``/``-Partition``/``-Offset`` on ``POST /v1/ingest``: a forwarded Kafka message is recorded
with its coordinates and identified by them as the native worker identifies it, so forwarding it again
stores nothing new; a partial or malformed set is a 400 problem and stores nothing. On the fast path and
the FastAPI routes (the ``client`` fixture)."""

import httpx
import pytest

from sigma_aetl.core.ids import failure_id
from sigma_aetl.testing import INVALID_SHIPMENT, VALID_SHIPMENT

AT = {"X-Kafka-Topic": "shipments.in", "X-Kafka-Partition": "2", "X-Kafka-Offset": "41"}


def test_a_forwarded_failure_is_identified_by_its_coordinates(client: httpx.Client) -> None:
    """The failure id is the one the native worker gives that message, and the source records where it
    was read."""
    outcome = client.post("/v1/ingest/shipment/1", content=INVALID_SHIPMENT, headers=AT).json()
    assert outcome["failure_id"] == failure_id("shipment", "1", ("kafka", "shipments.in", "2", "41"))
    source = client.get(f"/v1/failures/{outcome['failure_id']}").json()["source"]
    assert (source["kind"], source["kafka"]) == (
        "http",
        {"topic": "shipments.in", "partition": 2, "offset": 41},
    )


def test_forwarding_the_same_messages_again_stores_nothing_new(client: httpx.Client) -> None:
    """Re-sending a message at the same coordinates is a duplicate, accepted or failed; other coordinates
    with the same failing bytes are another arrival."""
    first = client.post("/v1/ingest/shipment/1", content=VALID_SHIPMENT, headers=AT).json()
    failed = client.post(
        "/v1/ingest/shipment/1", content=INVALID_SHIPMENT, headers={**AT, "X-Kafka-Offset": "42"}
    )
    again = client.post("/v1/ingest/shipment/1", content=VALID_SHIPMENT, headers=AT).json()
    refailed = client.post(
        "/v1/ingest/shipment/1", content=INVALID_SHIPMENT, headers={**AT, "X-Kafka-Offset": "42"}
    )
    assert (first["duplicate"], again["duplicate"]) == (False, True)
    assert refailed.json()["failure_id"] == failed.json()["failure_id"]
    assert refailed.json()["duplicate"] is True
    elsewhere = client.post(
        "/v1/ingest/shipment/1", content=INVALID_SHIPMENT, headers={**AT, "X-Kafka-Offset": "43"}
    )
    assert elsewhere.json()["failure_id"] != failed.json()["failure_id"]
    stats = client.get("/v1/stats").json()
    assert (stats["accepted_total"], stats["failures_total"]) == (1, 2)


def test_an_accepted_record_keeps_the_coordinates_of_its_first_arrival(client: httpx.Client) -> None:
    """The accepted record's source names the topic, partition and offset it was read at."""
    outcome = client.post("/v1/ingest/shipment/1", content=VALID_SHIPMENT, headers=AT).json()
    record = client.get(f"/v1/records/{outcome['record_id']}").json()
    assert record["source"]["kafka"] == {"topic": "shipments.in", "partition": 2, "offset": 41}


@pytest.mark.parametrize(
    ("headers", "words"),
    [
        ({"X-Kafka-Topic": "t", "X-Kafka-Offset": "1"}, "missing: X-Kafka-Partition"),
        ({**AT, "X-Kafka-Offset": "-1"}, "X-Kafka-Offset must be a whole number"),
        ({**AT, "X-Kafka-Offset": "07"}, "X-Kafka-Offset must be a whole number"),
        ({**AT, "X-Kafka-Partition": "2147483648"}, "X-Kafka-Partition must be a whole number from 0 to"),
        ({**AT, "X-Kafka-Offset": "1e3"}, "X-Kafka-Offset must be a whole number"),
        ({**AT, "X-Kafka-Topic": "a topic"}, "X-Kafka-Topic must be a Kafka topic name"),
        ({**AT, "X-Kafka-Topic": ""}, "X-Kafka-Topic must be a Kafka topic name"),
    ],
)
def test_malformed_coordinates_are_a_400_problem(
    client: httpx.Client, headers: dict[str, str], words: str
) -> None:
    """Partial or malformed coordinate headers answer a 400 problem naming the header, and store nothing."""
    response = client.post("/v1/ingest/shipment/1", content=VALID_SHIPMENT, headers=headers)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert words in response.json()["detail"]
    stats = client.get("/v1/stats").json()
    assert (stats["accepted_total"], stats["failures_total"]) == (0, 0)


def test_a_forwarded_batch_numbers_its_events(client: httpx.Client) -> None:
    """A message that is a batch gives each event the message's coordinates and its index."""
    body = b"[" + INVALID_SHIPMENT + b"," + INVALID_SHIPMENT + b"]"
    results = client.post("/v1/ingest/shipment/1", content=body, headers=AT).json()["results"]
    assert [r["failure_id"] for r in results] == [
        failure_id("shipment", "1", ("kafka", "shipments.in", "2", "41", str(index))) for index in (0, 1)
    ]
