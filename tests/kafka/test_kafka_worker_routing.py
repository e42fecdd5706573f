"""Routing through a real broker: one worker run over a mapped topic and a header-routed topic, then one
test per behaviour, each reading what the run stored for the messages it is about.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from kafka_support import (
    Coordinates,
    Kafka,
    Msg,
    StoreReader,
    WorkerThread,
    ends_of,
    kafka_config,
)
from sigma_aetl.contracts.registry import Registry
from sigma_aetl.ingest.pipeline import Pipeline
from sigma_aetl.kafka.source import KafkaSource
from sigma_aetl.kafka.worker import Worker, WorkerStats
from sigma_aetl.stores.sqlite.store import SqliteStore
from sigma_aetl.testing import INVALID_SHIPMENT


def shipment(shipment_id: str) -> bytes:
    """A valid shipment@1 (and shipment@2) event."""
    event = {"shipment_id": shipment_id, "weight_kg": 2.5, "destination": "Cork", "priority": 1}
    return json.dumps(event).encode()


def route(contract: str | None, version: str | None, **more: bytes) -> list[tuple[str, bytes | None]]:
    """Routing headers, plus any others given."""
    named = (("sigma-contract", contract), ("sigma-version", version))
    found: list[tuple[str, bytes | None]] = [(name, value.encode()) for name, value in named if value]
    return found + [(name.replace("_", "-"), value) for name, value in more.items()]


MAPPED: dict[str, Msg] = {
    "valid": Msg(shipment("MAP-1"), key=b"MAP-1", headers=[("trace", b"t-1"), ("bin", b"\xff")]),
    "invalid": Msg(INVALID_SHIPMENT),
    "tombstone": Msg(None, key=b"gone"),
    "disagreeing": Msg(shipment("MAP-2"), headers=route("shipment", "9")),
    "agreeing": Msg(shipment("MAP-3"), headers=route("shipment", "1")),
    "far_future": Msg(shipment("MAP-4"), timestamp_ms=2**62),
}
HEADED: dict[str, Msg] = {
    "valid": Msg(shipment("HDR-1"), headers=route("shipment", "1")),
    "no_headers": Msg(shipment("HDR-2")),
    "contract_only": Msg(shipment("HDR-3"), headers=route("shipment", None)),
    "unknown_contract": Msg(shipment("HDR-4"), headers=route("parcel", "1")),
    "unknown_version": Msg(shipment("HDR-5"), headers=route("shipment", "9")),
    "binary_contract": Msg(shipment("HDR-6"), headers=[("sigma-contract", b"\xff"), ("sigma-version", b"1")]),
    "keyed_1": Msg(b"{", headers=route("shipment", "1", idempotency_key=b"evt-1")),
    "keyed_2": Msg(b"{", headers=route("shipment", "1", idempotency_key=b"evt-1")),
}


@dataclass
class RoutingRun:
    """What one worker run over both topics stored."""

    mapped: dict[str, Coordinates]
    headed: dict[str, Coordinates]
    docs: dict[Coordinates, dict[str, Any]]
    stats: WorkerStats
    group: str
    store: SqliteStore

    def doc(self, topic: str, name: str) -> dict[str, Any]:
        """The stored document of one named message."""
        where = (self.mapped if topic == "mapped" else self.headed)[name]
        return self.docs[where]


@pytest.fixture(scope="module")
def run(kafka: Kafka, registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RoutingRun]:
    """Produce both topics' messages, run a worker until all are stored and committed, then stop it."""
    mapped_topic, headed_topic = kafka.topic("mapped"), kafka.topic("headed")
    mapped = dict(zip(MAPPED, kafka.produce(mapped_topic, MAPPED.values()), strict=True))
    headed = dict(zip(HEADED, kafka.produce(headed_topic, HEADED.values()), strict=True))
    path = tmp_path_factory.mktemp("routing") / "store.db"
    store = SqliteStore(path, writer="inline")
    group = "routing-run"
    config = kafka_config(kafka, group, routes={mapped_topic: ("shipment", "1")}, topics=(headed_topic,))
    source = KafkaSource(config)
    ends = ends_of([*mapped.values(), *headed.values()])
    with WorkerThread(Worker(Pipeline(registry, store), source)) as thread:
        thread.until(lambda: source.committed == ends, 60, "every message stored and committed")
        stats = thread.stop()
    yield RoutingRun(mapped, headed, StoreReader(path).docs(), stats, group, store)
    store.close()


def test_every_message_is_one_stored_decision(run: RoutingRun) -> None:
    """Each message, routed or not, ends as exactly one stored record or failure; none is dropped."""
    assert run.stats.messages == len(MAPPED) + len(HEADED)
    stats = run.store.stats()
    # keyed_2 repeats keyed_1's idempotency key: one failure for both
    assert stats.accepted_total + stats.failures_total == len(MAPPED) + len(HEADED) - 1
    assert run.stats.duplicates == 1


def test_a_mapped_topic_routes_by_the_map(run: RoutingRun) -> None:
    """A valid message on a mapped topic is accepted under the mapped contract version."""
    doc = run.doc("mapped", "valid")
    assert (doc["contract"], doc["version"], doc["data"]["shipment_id"]) == ("shipment", 1, "MAP-1")
    assert doc["source"]["route"] == {"by": "topic"}


def test_an_invalid_message_on_a_mapped_topic_is_a_failure(run: RoutingRun) -> None:
    """An invalid event on a mapped topic is a failure judged by the mapped contract version."""
    doc = run.doc("mapped", "invalid")
    assert (doc["contract_ref"], doc["root_cause"]) == ("shipment@1", "missing_field")


def test_a_tombstone_is_a_failure_record_not_a_crash(run: RoutingRun) -> None:
    """A null value is stored as a malformed_json failure with empty raw bytes, marked as a tombstone."""
    doc = run.doc("mapped", "tombstone")
    assert doc["root_cause"] == "malformed_json"
    assert (doc["raw"]["size"], doc["source"]["tombstone"]) == (0, True)


def test_a_timestamp_past_year_9999_is_stored_as_its_number(run: RoutingRun) -> None:
    """A producer's timestamp no datetime holds is kept as a number on the stored record; the worker that
    consumed it went on (before, it raised OverflowError in the poll, for every redelivery)."""
    source = run.doc("mapped", "far_future")["source"]
    stamp = (source["timestamp"], source["timestamp_ms"], source["timestamp_type"])
    assert stamp == (None, 2**62, "create_time")


def test_the_topic_map_wins_over_disagreeing_headers(run: RoutingRun) -> None:
    """Headers naming shipment@9 on a topic mapped to shipment@1: routed by the map, the disagreement kept."""
    doc = run.doc("mapped", "disagreeing")
    assert (doc["contract"], doc["version"]) == ("shipment", 1)
    assert doc["source"]["route"] == {"by": "topic", "ignored_headers": "shipment@9"}
    assert run.doc("mapped", "agreeing")["source"]["route"] == {"by": "topic"}


def test_headers_route_messages_on_an_unmapped_topic(run: RoutingRun) -> None:
    """sigma-contract and sigma-version headers route a message on a topic outside the map."""
    doc = run.doc("headed", "valid")
    assert (doc["contract"], doc["version"], doc["data"]["shipment_id"]) == ("shipment", 1, "HDR-1")
    assert doc["source"]["route"] == {"by": "headers"}


@pytest.mark.parametrize(
    ("name", "cause", "ref"),
    [
        ("no_headers", "unrouted", "?@?"),
        ("contract_only", "unrouted", "shipment@?"),
        ("unknown_contract", "unknown_contract", "parcel@1"),
        ("unknown_version", "unknown_version", "shipment@9"),
        ("binary_contract", "unknown_contract", "\ufffd@1"),
    ],
)
def test_messages_without_a_usable_route_are_failures(
    run: RoutingRun, name: str, cause: str, ref: str
) -> None:
    """No route, half a route, an unknown contract or version: a failure saying which, never a guess."""
    doc = run.doc("headed", name)
    assert (doc["root_cause"], doc["stage"], doc["contract_ref"]) == (cause, "routing", ref)
    assert doc["contract"] is None


def test_transport_metadata_is_stored_with_the_record(run: RoutingRun) -> None:
    """Topic, partition, offset, key, timestamp, decoded headers and the consumer group are on the record."""
    topic, partition, offset = run.mapped["valid"]
    source = run.doc("mapped", "valid")["source"]
    assert (source["kind"], source["topic"], source["partition"], source["offset"]) == (
        "kafka",
        topic,
        partition,
        offset,
    )
    assert source["key"] == {"encoding": "utf-8", "text": "MAP-1"}
    assert source["headers"] == [
        {"name": "trace", "value": {"encoding": "utf-8", "text": "t-1"}},
        {"name": "bin", "value": {"encoding": "base64", "text": "/w=="}},
    ]
    assert source["consumer_group"] == run.group
    assert source["timestamp"].endswith("+00:00")
    assert source["timestamp_type"] == "create_time"


def test_an_idempotency_key_makes_two_messages_one_failure(run: RoutingRun) -> None:
    """Two messages with the same idempotency-key header are one event: one failure, named by the key."""
    first, second = run.headed["keyed_1"], run.headed["keyed_2"]
    assert first in run.docs
    assert second not in run.docs
    assert run.docs[first]["source"]["offset"] == first[2]
