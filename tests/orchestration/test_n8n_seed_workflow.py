"""The seed's own n8n workflow, run by a real n8n against this gateway's ``POST /api/validate``: every
valid event lands in ``validated_shipments`` and every other one in ``failed_shipments``.

Cost: the first run installs n8n 2.40.7 and node 24 from npm into ``~/.cache/sigma-aetl`` (about 5 to 12
minutes, once per version); each run then takes about 1 to 2 minutes (n8n starts in ~30 s and handles about
ten events a second, one at a time).

What the test changes in the workflow, and nothing else: the HTTP node's URL (to the gateway under test);
the credentials its nodes name are supplied with the same ids, pointing at the test's Tansu broker and
nx-27017; the two Ollama nodes ("Ollama Chat Model", "SIGMA-AETL Sentinel") are removed, and the one node
they fed ("Attach ETLMetadata") is connected straight to "FALSE Branch (Validation Failed)".
"""

import copy
import json
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.cimpl import NewTopic
from pymongo import MongoClient

from kafka_support import Kafka, Msg, Tansu
from n8n_support import Mongo, N8n, ensure_installed, seed_workflow
from serve_support import ServeProcess

pytestmark = pytest.mark.slow

CONTRACTS = Path(__file__).parents[2] / "contracts"
OLLAMA_NODES = ("Ollama Chat Model", "SIGMA-AETL Sentinel")
HTTP_NODE = "POST → SIGMA-AETL Validator"
EVENTS = 300
DATABASE = "sigma"


def for_this_test(seed: dict[str, Any], validate_url: str) -> dict[str, Any]:
    """The seed workflow with only the changes the module docstring lists."""
    workflow = copy.deepcopy(seed)
    workflow["nodes"] = [node for node in workflow["nodes"] if node["name"] not in OLLAMA_NODES]
    [http] = [node for node in workflow["nodes"] if node["name"] == HTTP_NODE]
    http["parameters"]["url"] = validate_url
    connections = workflow["connections"]
    for name in OLLAMA_NODES:
        del connections[name]
    connections["FALSE Branch (Validation Failed)"]["main"] = [
        [{"node": "Attach ETLMetadata", "type": "main", "index": 0}]
    ]
    return workflow


def credentials(seed: dict[str, Any], bootstrap: str, mongo_url: str) -> list[dict[str, Any]]:
    """The Kafka and MongoDB credentials the seed's nodes name (same ids), for the test's servers."""
    data = {
        "kafka": {"clientId": "n8n-seed", "brokers": bootstrap, "ssl": False, "authentication": False},
        "mongoDb": {
            "configurationType": "connectionString",
            "connectionString": f"{mongo_url}/{DATABASE}",
            "database": DATABASE,
        },
    }
    named = {
        (kind, ref["id"], ref["name"])
        for node in seed["nodes"]
        for kind, ref in node.get("credentials", {}).items()
        if kind in data
    }
    return [{"id": id_, "name": name, "type": kind, "data": data[kind]} for kind, id_, name in sorted(named)]


def shipments(count: int) -> list[tuple[bytes, str | None]]:
    """``count`` Kafka message values, each with the root cause it must fail with (None: valid)."""
    kinds: list[tuple[dict[str, Any] | bytes, str | None]] = [
        ({"weight_kg": 12.5, "destination": "Dublin", "priority": 1}, None),
        ({"weight_kg": 3, "destination": "Cork", "priority": 3}, None),
        ({"weight_kg": -5, "destination": "Cork", "priority": 2}, "constraint_violation"),
        ({"weight_kg": 5, "destination": "Oslo"}, "type_mismatch"),  # the Code node sends priority: null
        ({"weight_kg": 5, "destination": "Oslo", "priority": "2"}, "type_mismatch"),  # no "2" → 2
        ({"weight_kg": 1500, "destination": "Cork", "priority": 1}, "business_rule_violation"),
        (
            {"weight_kg": 40, "destination": "Galway", "priority": 2, "extra": True},
            None,
        ),  # the Code node drops it
        (b"not json at all", "type_mismatch"),
    ]
    values = []
    for index in range(count):
        shape, cause = kinds[index % len(kinds)]
        if isinstance(shape, bytes):
            values.append((shape, cause))
        else:
            values.append((json.dumps({"shipment_id": f"SHIP-{index:04d}", **shape}).encode(), cause))
    return values


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[Tansu, Mongo]]:
    """A Tansu broker and an nx-27017 server of this test."""
    broker = Tansu.start(tmp_path)
    mongo = Mongo.start(tmp_path)
    try:
        yield broker, mongo
    finally:
        mongo.stop()
        broker.stop()


def test_the_seed_workflow_routes_exactly_the_valid_events(
    tmp_path: Path, servers: tuple[Tansu, Mongo]
) -> None:
    """With only its URL and credentials changed and its Ollama nodes removed, the original workflow puts
    exactly the valid events in validated_shipments and the rest, with their root causes, in
    failed_shipments."""
    root = ensure_installed()
    broker, mongo = servers
    seed = seed_workflow()
    kafka = Kafka(broker.bootstrap)
    [trigger] = [node for node in seed["nodes"] if node["type"] == "n8n-nodes-base.kafkaTrigger"]
    topic, group = trigger["parameters"]["topic"], trigger["parameters"]["groupId"]
    for future in kafka.admin.create_topics([NewTopic(topic, 1, 1)]).values():
        future.result(timeout=10)
    values = shipments(EVENTS)
    kafka.produce(topic, [Msg(value) for value, _ in values])
    kafka.reset_offsets(group, {(topic, 0): 0})  # the trigger resumes from 0, not from the end
    home = tmp_path / "n8n"
    home.mkdir()
    n8n = N8n(root, home)
    with ServeProcess(tmp_path, CONTRACTS) as gateway, MongoClient[dict[str, Any]](mongo.url) as client:
        n8n.import_json("credentials", credentials(seed, broker.bootstrap, mongo.url))
        n8n.import_json("workflow", for_this_test(seed, f"{gateway.url}/api/validate"))
        n8n.publish(seed["id"])
        db = client[DATABASE]
        try:
            n8n.start()
            started = time.monotonic()
            stored = _wait_for(db, EVENTS, n8n)
            elapsed = time.monotonic() - started
        finally:
            n8n.stop()
        valid = {json.loads(value)["shipment_id"] for value, cause in values if cause is None}
        accepted = [doc["shipment_id"] for doc in db.validated_shipments.find()]
        assert sorted(accepted) == sorted(valid)
        failed = Counter(doc["root_cause"] for doc in db.failed_shipments.find())
        assert failed == Counter(cause for _, cause in values if cause is not None)
        assert stored == EVENTS
    print(f"n8n seed workflow: {EVENTS} events in {elapsed:.1f} s, {EVENTS / elapsed:.1f} events/s")


def _wait_for(db: Any, count: int, n8n: N8n, timeout: float = 600) -> int:
    """Wait until ``count`` documents are in the two collections (and no more arrive); the total."""
    deadline = time.monotonic() + timeout
    total = 0
    while time.monotonic() < deadline:
        total = int(db.validated_shipments.count_documents({}) + db.failed_shipments.count_documents({}))
        if total >= count:
            time.sleep(3)  # anything past the expected count would show up now
            return int(db.validated_shipments.count_documents({}) + db.failed_shipments.count_documents({}))
        time.sleep(0.5)
    raise AssertionError(
        f"only {total} of {count} events were stored by n8n within {timeout} s: {n8n.tail()}"
    )
