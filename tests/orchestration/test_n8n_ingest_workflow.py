"""The shipped ingest workflow (``orchestration/n8n/ingest-workflow.json``) in a real n8n: n8n only routes,
the gateway stores. Each Kafka message is stored exactly once with its bytes as produced, also when the
same messages are consumed a second time (the group's offsets reset and n8n restarted).

n8n's Kafka Trigger (v1.x, kafkajs) hands a workflow the message, its topic and its headers, and not its
partition or offset, so this workflow identifies a message by the producer's ``idempotency-key`` header
(sent as ``Idempotency-Key``); the X-Kafka-* coordinate headers are for forwarders that have the offsets.

Cost: the n8n install is cached (see n8n_support.py; 5 to 12 minutes the first time); a run takes about
2 minutes (two n8n starts, two passes over the messages at about ten a second).
"""

import json
import time
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.cimpl import NewTopic

from kafka_support import Kafka, Msg, Tansu
from n8n_support import N8n, ensure_installed
from serve_support import ServeProcess

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parents[2]
WORKFLOW = ROOT / "orchestration" / "n8n" / "ingest-workflow.json"
CONTRACTS = ROOT / "contracts"
EVENTS = 120


def workflow_for(url: str, topic: str) -> dict[str, Any]:
    """The shipped workflow pointed at the gateway under test and the test's topic."""
    workflow: dict[str, Any] = json.loads(WORKFLOW.read_text())
    for node in workflow["nodes"]:
        if node["type"] == "n8n-nodes-base.httpRequest":
            node["parameters"]["url"] = f"{url}/v1/ingest/shipment/1"
        if node["type"] == "n8n-nodes-base.kafkaTrigger":
            node["parameters"]["topic"] = topic
    return workflow


def kafka_credentials(workflow: dict[str, Any], bootstrap: str) -> list[dict[str, Any]]:
    """The Kafka credentials the workflow names, for the test's broker."""
    [trigger] = [node for node in workflow["nodes"] if node["type"] == "n8n-nodes-base.kafkaTrigger"]
    ref = trigger["credentials"]["kafka"]
    data = {"clientId": "n8n-ingest", "brokers": bootstrap, "ssl": False, "authentication": False}
    return [{"id": ref["id"], "name": ref["name"], "type": "kafka", "data": data}]


def messages(count: int) -> tuple[list[Msg], int]:
    """Messages with an ``idempotency-key`` header each, written with odd spacing and key order (to show
    they are stored as sent); the number of valid ones. Every third is invalid, all with the same bytes."""
    produced, valid = [], 0
    for index in range(count):
        if index % 3 == 2:
            value = b'{ "weight_kg" : -5,"shipment_id":"", "destination":"Cork" }'
        else:
            valid += 1
            text = (
                f'{{"priority": 2,  "shipment_id": "S-{index:04d}", "weight_kg": 1.50, "destination": "C"}}'
            )
            value = text.encode()
        produced.append(Msg(value, headers=[("idempotency-key", f"msg-{index}".encode())]))
    return produced, valid


def test_each_message_is_stored_once_even_when_consumed_twice(tmp_path: Path) -> None:
    """Every message is stored once (accepted or failed) with its bytes and key; consuming them all again
    writes nothing new."""
    root = ensure_installed()
    broker = Tansu.start(tmp_path)
    try:
        kafka = Kafka(broker.bootstrap)
        topic = "shipments-in"
        for future in kafka.admin.create_topics([NewTopic(topic, 1, 1)]).values():
            future.result(timeout=10)
        produced, valid = messages(EVENTS)
        kafka.produce(topic, produced)
        home = tmp_path / "n8n"
        home.mkdir()
        n8n = N8n(root, home)
        with ServeProcess(tmp_path, CONTRACTS) as gateway:
            workflow = workflow_for(gateway.url, topic)
            group = workflow["nodes"][0]["parameters"]["groupId"]
            n8n.import_json("credentials", kafka_credentials(workflow, broker.bootstrap))
            n8n.import_json("workflow", workflow)
            n8n.publish(workflow["id"])
            first = _consume_all(n8n, kafka, group, topic)
            stats = gateway.http.get("/v1/stats").json()
            assert (stats["accepted_total"], stats["failures_total"]) == (valid, EVENTS - valid)
            _assert_stored_as_sent(gateway, produced)
            second = _consume_all(n8n, kafka, group, topic)
            again = gateway.http.get("/v1/stats").json()
            assert (again["accepted_total"], again["failures_total"]) == (valid, EVENTS - valid)
    finally:
        broker.stop()
    print(f"n8n ingest workflow: {EVENTS} events, {EVENTS / first:.1f} events/s; again {EVENTS / second:.1f}")


def _consume_all(n8n: N8n, kafka: Kafka, group: str, topic: str, timeout: float = 600) -> float:
    """Start n8n on the group reset to offset 0; stop it once every message is committed. Seconds taken."""
    kafka.reset_offsets(group, {(topic, 0): 0})
    n8n.start()
    started = time.monotonic()
    try:
        while kafka.committed(group).get((topic, 0), 0) < EVENTS:
            assert time.monotonic() - started < timeout, f"n8n did not consume every message: {n8n.tail()}"
            time.sleep(0.5)
        taken = time.monotonic() - started
        time.sleep(3)  # the commit follows the executions; let any in flight finish before stopping
        return taken
    finally:
        n8n.stop()


def _assert_stored_as_sent(gateway: ServeProcess, produced: list[Msg]) -> None:
    """The failure keeps the invalid bytes exactly as produced (not re-encoded) and the producer's key."""
    failures = gateway.http.get("/v1/failures", params={"limit": 1000}).json()["items"]
    assert {failure["raw"]["text"].encode() for failure in failures} == {produced[2].value}
    keys = {failure["source"]["headers"]["idempotency-key"] for failure in failures}
    assert keys == {f"msg-{index}" for index in range(2, len(produced), 3)}
