"""The shipped coordinates workflow (``orchestration/n8n/ingest-coordinates-workflow.json``) in a real n8n,
with our trigger node (``orchestration/n8n/nodes/n8n-nodes-sigma-aetl``) loaded through
``N8N_CUSTOM_EXTENSIONS``: every message of a two-partition topic is stored once, its record's source
holds the topic, partition and offset the broker gave it, and consuming everything again (the group reset,
n8n restarted) stores nothing new: each second arrival is counted as a duplicate.

Identical invalid bytes at different offsets are different failures, identified as the native worker
identifies them: by the message's ``idempotency-key`` header when it has one, else by its coordinates.
Bytes that are not UTF-8 reach the gateway exactly as produced (the trigger hands them on as binary).

Offsets are committed only after an execution succeeded: while the gateway cannot be reached nothing is
committed, and once it answers the same messages are stored, none skipped.

Cost: the n8n install is cached (see n8n_support.py; 5 to 12 minutes the first time); the runs take about
4 minutes (three n8n starts, two passes over 300 messages at a few a second).
"""

import base64
import json
import time
from pathlib import Path
from typing import Any

import pytest

from kafka_support import Coordinates, Kafka, Msg, Tansu, ends_of
from metrics_support import events_by
from n8n_support import N8n, ensure_installed, free_port
from serve_support import ServeProcess
from sigma_aetl.core.ids import SourceIdentity, failure_id
from sigma_aetl.testing import wait_until

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parents[2]
WORKFLOW = ROOT / "orchestration" / "n8n" / "ingest-coordinates-workflow.json"
NODES = ROOT / "orchestration" / "n8n" / "nodes" / "n8n-nodes-sigma-aetl"
CONTRACTS = ROOT / "contracts"
TRIGGER = "CUSTOM.sigmaAetlKafkaTrigger"
EVENTS = 120
INVALID = b'{ "weight_kg" : -5,"shipment_id":"", "destination":"Cork" }'
NOT_UTF8 = b'{"shipment_id": "S-\xff\xfe", "weight_kg": 1.5, "destination": "C"}'


def workflow_for(url: str, topic: str) -> dict[str, Any]:
    """The shipped workflow pointed at the gateway under test and the test's topic."""
    workflow: dict[str, Any] = json.loads(WORKFLOW.read_text())
    for node in workflow["nodes"]:
        if node["type"] == "n8n-nodes-base.httpRequest":
            node["parameters"]["url"] = f"{url}/v1/ingest/shipment/1"
        if node["type"] == TRIGGER:
            node["parameters"]["topic"] = topic
    return workflow


def kafka_credentials(workflow: dict[str, Any], bootstrap: str) -> list[dict[str, Any]]:
    """n8n's own Kafka credentials, as the trigger names them, for the test's broker."""
    [trigger] = [node for node in workflow["nodes"] if node["type"] == TRIGGER]
    ref = trigger["credentials"]["kafka"]
    data = {"clientId": "n8n-coordinates", "brokers": bootstrap, "ssl": False, "authentication": False}
    return [{"id": ref["id"], "name": ref["name"], "type": "kafka", "data": data}]


def messages(count: int) -> list[Msg]:
    """Messages spread over partitions 0 and 1, written with odd spacing (to show they are stored as sent).
    Every third is invalid: with the same bytes each, every tenth of those bytes that are not UTF-8. Every
    fourth carries an ``idempotency-key`` header, every seventh twice (which names nothing)."""
    produced = []
    for index in range(count):
        if index % 3 != 2:
            text = (
                f'{{"priority": 2,  "shipment_id": "S-{index:04d}", "weight_kg": 1.50, "destination": "C"}}'
            )
            value = text.encode()
        else:
            value = NOT_UTF8 if index % 30 == 2 else INVALID
        keyed: list[tuple[str, bytes | None]] = []
        if index % 4 == 0:
            keyed.append(("idempotency-key", f"event-{index}".encode()))
        headers = keyed * 2 if index % 7 == 0 else keyed
        produced.append(Msg(value, key=f"k-{index}".encode(), headers=headers, partition=index % 2))
    return produced


def worker_identity(message: Msg, read_at: Coordinates) -> SourceIdentity:
    """The identity the native worker gives the message: its ``idempotency-key`` header when it has exactly
    one, else where it was read."""
    keys = [value for name, value in message.headers if name == "idempotency-key"]
    if len(keys) == 1 and keys[0]:
        return ("key", keys[0].decode())
    topic, partition, offset = read_at
    return ("kafka", topic, str(partition), str(offset))


def test_each_message_is_stored_once_with_its_coordinates_even_when_consumed_twice(tmp_path: Path) -> None:
    """Every message is stored once, accepted or failed, with its bytes and broker coordinates; consuming
    them all again stores nothing new and counts each as a duplicate."""
    root = ensure_installed()
    broker = Tansu.start(tmp_path)
    try:
        kafka = Kafka(broker.bootstrap)
        topic = kafka.topic("shipments-coords", partitions=2)
        produced = messages(EVENTS)
        at = kafka.produce(topic, produced)
        assert {partition for _, partition, _ in at} == {0, 1}
        home = tmp_path / "n8n"
        home.mkdir()
        n8n = N8n(root, home, env={"N8N_CUSTOM_EXTENSIONS": str(NODES)})
        with ServeProcess(tmp_path, CONTRACTS) as gateway:
            workflow = workflow_for(gateway.url, topic)
            group = workflow["nodes"][0]["parameters"]["groupId"]
            n8n.import_json("credentials", kafka_credentials(workflow, broker.bootstrap))
            n8n.import_json("workflow", workflow)
            n8n.publish(workflow["id"])
            first = _consume_all(n8n, kafka, group, ends_of(at))
            _assert_stored_once_where_read(gateway, produced, at)
            second = _consume_all(n8n, kafka, group, ends_of(at))
            _assert_stored_once_where_read(gateway, produced, at)
            counted = events_by(gateway.http.get("/metrics").text, "status")
    finally:
        broker.stop()
    invalid = sum(1 for message in produced if message.value in (INVALID, NOT_UTF8))
    assert (counted[("accepted",)], counted[("failed",)]) == (EVENTS - invalid, invalid)
    assert counted[("repeat",)] == 0
    assert counted[("duplicate",)] >= EVENTS  # the whole second pass (and any redelivery in the first)
    rates = f"{EVENTS / first:.1f} events/s; again {EVENTS / second:.1f}"
    print(f"n8n coordinates workflow: {EVENTS} events over 2 partitions, {rates}")


def test_nothing_is_committed_until_the_gateway_has_stored_the_message(tmp_path: Path) -> None:
    """While the gateway cannot be reached every execution fails and no offset moves; once it answers, the
    same messages are stored, each once with its coordinates, and committed (here three messages of a
    partition to an execution: the trigger's Batch Size option)."""
    root = ensure_installed()
    broker = Tansu.start(tmp_path)
    try:
        kafka = Kafka(broker.bootstrap)
        topic = kafka.topic("shipments-retry", partitions=2)
        produced = messages(12)
        at = kafka.produce(topic, produced)
        port = free_port()  # where the gateway will be, once it starts
        workflow = workflow_for(f"http://127.0.0.1:{port}", topic)
        trigger = workflow["nodes"][0]["parameters"]
        trigger["options"]["batchSize"] = 3
        group = trigger["groupId"]
        home = tmp_path / "n8n"
        home.mkdir()
        n8n = N8n(root, home, env={"N8N_CUSTOM_EXTENSIONS": str(NODES)})
        n8n.import_json("credentials", kafka_credentials(workflow, broker.bootstrap))
        n8n.import_json("workflow", workflow)
        n8n.publish(workflow["id"])
        kafka.reset_offsets(group, ends_of(at))
        n8n.start()
        try:
            wait_until(
                lambda: n8n.tail().count("not committed") >= 2, 120, "failed executions", detail=n8n.tail
            )
            assert set(kafka.committed(group).values()) == {0}
            with ServeProcess(tmp_path, CONTRACTS, port=port) as gateway:
                wait_until(lambda: kafka.committed(group) == ends_of(at), 120, "the commits", detail=n8n.tail)
                _assert_stored_once_where_read(gateway, produced, at)
        finally:
            n8n.stop()
    finally:
        broker.stop()


def _consume_all(
    n8n: N8n, kafka: Kafka, group: str, ends: dict[tuple[str, int], int], timeout: float = 600
) -> float:
    """Start n8n on the group reset to offset 0; stop it once every partition is committed to its end.
    Seconds taken."""
    kafka.reset_offsets(group, ends)
    n8n.start()
    started = time.monotonic()
    try:
        while any(kafka.committed(group).get(partition, 0) < end for partition, end in ends.items()):
            assert time.monotonic() - started < timeout, f"n8n did not consume every message: {n8n.tail()}"
            time.sleep(0.5)
        return time.monotonic() - started
    finally:
        n8n.stop()  # a commit follows its execution's success: nothing is in flight past the last one


def _assert_stored_once_where_read(gateway: ServeProcess, produced: list[Msg], at: list[Coordinates]) -> None:
    """One accepted record per valid message and one failure per invalid one, each with the coordinates
    the broker gave that message and its bytes as produced."""
    where = {(topic, partition, offset): index for index, (topic, partition, offset) in enumerate(at)}
    invalid = {index for index, message in enumerate(produced) if message.value in (INVALID, NOT_UTF8)}
    records = gateway.http.get("/v1/records", params={"limit": 1000}).json()["items"]
    failures = gateway.http.get("/v1/failures", params={"limit": 1000}).json()["items"]
    assert len(records) + len(failures) == len(produced)
    for record in records:
        index = where[_coordinates(record["source"])]
        assert record["data"]["shipment_id"] == f"S-{index:04d}"
    for failure in failures:
        read_at = _coordinates(failure["source"])
        index = where[read_at]
        assert index in invalid
        assert failure["failure_id"] == failure_id("shipment", "1", worker_identity(produced[index], read_at))
        assert _bytes(failure["raw"]) == produced[index].value
    assert {where[_coordinates(failure["source"])] for failure in failures} == invalid


def _coordinates(source: dict[str, Any]) -> Coordinates:
    kafka = source["kafka"]
    return kafka["topic"], kafka["partition"], kafka["offset"]


def _bytes(raw: dict[str, Any]) -> bytes:
    text: str = raw["text"]
    return text.encode() if raw["encoding"] == "utf-8" else base64.b64decode(text)
