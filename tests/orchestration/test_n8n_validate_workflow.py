"""The shipped original-style workflow (``orchestration/n8n/validate-workflow.json``: Kafka Trigger →
``POST /api/validate`` → IF PASSED → MongoDB) in a real n8n: valid events land in ``validated_shipments``
as ``clean_data``, the others in ``failed_shipments`` with their root cause and errors.

Cost: the n8n install is cached (see n8n_support.py); a run takes about a minute.
"""

import json
import time
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.cimpl import NewTopic
from pymongo import MongoClient

from kafka_support import Kafka, Msg, Tansu
from n8n_support import DEFAULT_BROKER_PORT, Mongo, N8n, ensure_installed, holding
from serve_support import ServeProcess

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parents[2]
WORKFLOW = ROOT / "orchestration" / "n8n" / "validate-workflow.json"
CONTRACTS = ROOT / "contracts"
EVENTS = 120
DATABASE = "sigma"


def prepared(url: str, topic: str) -> dict[str, Any]:
    """The shipped workflow pointed at the gateway under test and the test's topic."""
    workflow: dict[str, Any] = json.loads(WORKFLOW.read_text())
    for node in workflow["nodes"]:
        if node["type"] == "n8n-nodes-base.httpRequest":
            node["parameters"]["url"] = f"{url}/api/validate"
        if node["type"] == "n8n-nodes-base.kafkaTrigger":
            node["parameters"]["topic"] = topic
    return workflow


def credentials(workflow: dict[str, Any], bootstrap: str, mongo_url: str) -> list[dict[str, Any]]:
    """The credentials the workflow names, for the test's broker and nx-27017."""
    data = {
        "kafka": {"clientId": "n8n-validate", "brokers": bootstrap, "ssl": False, "authentication": False},
        "mongoDb": {
            "configurationType": "connectionString",
            "connectionString": f"{mongo_url}/{DATABASE}",
            "database": DATABASE,
        },
    }
    refs = {
        (kind, ref["id"], ref["name"])
        for node in workflow["nodes"]
        for kind, ref in node.get("credentials", {}).items()
    }
    return [{"id": id_, "name": name, "type": kind, "data": data[kind]} for kind, id_, name in sorted(refs)]


def events(count: int) -> list[tuple[bytes, str | None]]:
    """Message values and the root cause each must fail with (None: valid)."""
    made: list[tuple[bytes, str | None]] = []
    for index in range(count):
        shipment = {"shipment_id": f"S-{index:04d}", "weight_kg": 2.5, "destination": "Cork", "priority": 1}
        cause = [None, "constraint_violation", "type_mismatch", None][index % 4]
        if cause == "constraint_violation":
            shipment["weight_kg"] = -1
        elif cause == "type_mismatch":
            shipment["priority"] = "2"
        made.append((json.dumps(shipment).encode(), cause))
    return made


def test_the_shipped_validate_workflow_routes_every_event(tmp_path: Path) -> None:
    """Exactly the valid events reach validated_shipments (their clean_data); every other one reaches
    failed_shipments with its root cause, with n8n's default task-broker port held by another program."""
    root = ensure_installed()
    broker, mongo = Tansu.start(tmp_path), Mongo.start(tmp_path)
    n8n = N8n(root, tmp_path / "n8n")
    n8n.home.mkdir()
    try:
        kafka, topic = Kafka(broker.bootstrap), "shipments-validate"
        for future in kafka.admin.create_topics([NewTopic(topic, 1, 1)]).values():
            future.result(timeout=10)
        made = events(EVENTS)
        kafka.produce(topic, [Msg(value) for value, _ in made])
        with (
            holding(DEFAULT_BROKER_PORT),
            ServeProcess(tmp_path, CONTRACTS) as gateway,
            MongoClient[dict[str, Any]](mongo.url) as client,
        ):
            workflow = prepared(gateway.url, topic)
            kafka.reset_offsets(workflow["nodes"][0]["parameters"]["groupId"], {(topic, 0): 0})
            n8n.import_json("credentials", credentials(workflow, broker.bootstrap, mongo.url))
            n8n.import_json("workflow", workflow)
            n8n.publish(workflow["id"])
            db = client[DATABASE]
            n8n.start()
            deadline = time.monotonic() + 600
            while (
                db.validated_shipments.count_documents({}) + db.failed_shipments.count_documents({}) < EVENTS
            ):
                assert time.monotonic() < deadline, n8n.tail()
                time.sleep(0.5)
            time.sleep(3)  # anything beyond the expected would show now
            valid = sorted(json.loads(value)["shipment_id"] for value, cause in made if cause is None)
            stored = list(db.validated_shipments.find({}, {"_id": 0}))
            assert sorted(doc.get("shipment_id", "") for doc in stored) == valid, stored[:2]
            failed = sorted(doc["root_cause"] for doc in db.failed_shipments.find())
            assert failed == sorted(cause for _, cause in made if cause is not None)
    finally:
        n8n.stop()
        mongo.stop()
        broker.stop()
