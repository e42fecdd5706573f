"""The flood guard with the real broker: a flood on one partition pauses that partition only, nothing is
lost, and a resume (through the CLI, from the admin endpoint) continues from the right offset."""

import json
import signal
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cli_support import Cli
from kafka_support import (
    Kafka,
    Msg,
    StoreReader,
    WorkerProcess,
    WorkerThread,
    ends_of,
    free_port,
    kafka_config,
)
from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core.flood import Thresholds
from sigma_aetl.ingest.alert_delivery import Deliveries
from sigma_aetl.ingest.flood import FloodMonitor
from sigma_aetl.ingest.pipeline import Pipeline
from sigma_aetl.kafka.admin import Admin
from sigma_aetl.kafka.health import Health, HealthServer
from sigma_aetl.kafka.source import KafkaSource
from sigma_aetl.kafka.worker import Worker
from sigma_aetl.stores.keys import issue
from sigma_aetl.stores.sqlite.store import SqliteStore
from sigma_aetl.testing import INVALID_SHIPMENT, VALID_SHIPMENT, wait_until

IN_A_ROW = 10
"""Failures in a row that pause a partition."""
BATCH = 5
"""Most messages per batch: a partition is paused after at most ``BATCH - 1`` messages more."""


def valid(n: int) -> bytes:
    """A valid shipment@1 event, its own record for each ``n``."""
    return VALID_SHIPMENT.replace(b"SHIP-TRUE-003", b"SHIP-%d" % n)


@pytest.fixture
def health_url() -> Iterator[tuple[HealthServer, str]]:
    """A health server on a free port (the test attaches its admin endpoints), and its URL."""
    with HealthServer(Health(), "127.0.0.1", 0) as server:
        yield server, f"http://127.0.0.1:{server.port}"


FloodingWorker = Callable[[str], tuple[Worker, str]]


@pytest.fixture
def flooding(
    kafka: Kafka, group: str, registry: Registry, store: SqliteStore, health_url: tuple[HealthServer, str]
) -> FloodingWorker:
    """Build a worker on ``topic`` pausing a partition after ten failures in a row, in batches of at most
    five messages, its admin endpoints on the health server; with that server's URL."""

    def make(topic: str) -> tuple[Worker, str]:
        deliveries = Deliveries(store, None)
        monitor = FloodMonitor(Thresholds(consecutive_failures=IN_A_ROW), "kafka", deliveries, pause=True)
        pipeline = Pipeline(registry, store, observer=monitor)
        config = kafka_config(kafka, group, routes={topic: ("shipment", "1")}, batch_size=BATCH)
        worker = Worker(pipeline, KafkaSource(config), flood=monitor)
        server, url = health_url
        server.admin = Admin(worker.source.pauses, store)
        return worker, url

    return make


def admin(url: str, path: str, method: str = "GET", token: str | None = None) -> tuple[int, dict[str, Any]]:
    """An admin endpoint's status and JSON body."""
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    request = urllib.request.Request(
        url + path, method=method, headers=headers, data=b"" if method == "POST" else None
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


def stored_on(reader: StoreReader, partition: int) -> int:
    """Messages of ``partition`` stored (records and failures)."""
    return sum(1 for _, (_, number, _) in reader.coordinates() if number == partition)


def test_a_flood_pauses_its_partition_only_and_a_resume_loses_nothing(
    tmp_path: Path, kafka: Kafka, store: SqliteStore, store_path: Path, flooding: FloodingWorker
) -> None:
    """Fifteen invalid then ten valid messages on partition 0, twenty valid on partition 1: partition 0
    pauses after its tenth failure, partition 1 goes on (twenty more are consumed meanwhile); after
    ``sigma-aetl worker resume`` everything is stored once and committed to the end."""
    topic = kafka.topic("flood", partitions=2)
    flood = [Msg(INVALID_SHIPMENT, partition=0) for _ in range(15)] + [
        Msg(valid(n), partition=0) for n in range(10)
    ]
    produced = kafka.produce(topic, [*flood, *(Msg(valid(100 + n), partition=1) for n in range(20))])
    worker, url = flooding(topic)
    reader = StoreReader(store_path)
    with WorkerThread(worker) as thread:
        thread.until(lambda: worker.source.pauses.is_paused((topic, 0)), 30, "partition 0 to pause")
        thread.until(lambda: stored_on(reader, 1) == 20, 30, "partition 1 stored")
        produced += kafka.produce(topic, [Msg(valid(200 + n), partition=1) for n in range(20)])
        thread.until(lambda: stored_on(reader, 1) == 40, 30, "partition 1 still consumed")
        paused_at = stored_on(reader, 0)
        status, listed = admin(url, "/admin/partitions")
        time.sleep(1)  # several polls: nothing more comes from partition 0
        assert stored_on(reader, 0) == paused_at
        assert IN_A_ROW <= paused_at < IN_A_ROW + BATCH
        result = Cli(tmp_path).invoke("worker", "resume", topic, "0", "--url", url)
        assert result.exit_code == 0, result.output
        ends = ends_of(produced)
        thread.until(lambda: worker.source.committed == ends, 30, "everything stored and committed")
        assert not worker.source.pauses.is_paused((topic, 0))
    assert status == 200
    by_partition = {item["partition"]: item for item in listed["partitions"]}
    assert by_partition[0]["paused"] is True
    assert by_partition[0]["reason"].startswith("consecutive_failures: shipment@1")
    assert by_partition[1]["paused"] is False
    (alert,) = store.list_alerts(None, 10)
    assert (alert.partition, alert.action, alert.source) == (f"{topic}:0", "paused", "kafka")
    assert by_partition[0]["alert_id"] == alert.alert_id
    stored = Counter(coordinates for _, coordinates in reader.coordinates())
    assert sorted(stored) == sorted(produced)
    assert set(stored.values()) == {1}


def test_admin_endpoints_need_an_admin_key_and_refuse_bad_input(
    kafka: Kafka, store: SqliteStore, flooding: FloodingWorker
) -> None:
    """Once keys exist: no key 401, a read key 403, an admin key passes; a partition that is not a number
    is 422, one not assigned 404, one not paused 409; each a problem."""
    topic = kafka.topic("admin")
    worker, url = flooding(topic)
    reader, operator = issue(store, "reader", ["read"]), issue(store, "operator", ["admin"])
    worker.source.pauses.assigned({(topic, 0)})
    assert admin(url, "/admin/partitions")[0] == 401
    assert admin(url, "/admin/partitions", token=reader.token)[0] == 403
    status, listed = admin(url, "/admin/partitions", token=operator.token)
    assert (status, listed["partitions"][0]["paused"]) == (200, False)
    resume = f"/admin/partitions/{topic}/%s/resume"
    answers = {part: admin(url, resume % part, "POST", operator.token) for part in ("zero", "7", "0")}
    assert {part: status for part, (status, _) in answers.items()} == {"zero": 422, "7": 404, "0": 409}
    assert all(body["status"] == status for status, body in answers.values())
    assert all(body["type"] == "about:blank" and body["detail"] for _, body in answers.values())


def test_a_paused_partition_handed_to_another_member_starts_unpaused(
    kafka: Kafka, store: SqliteStore, store_path: Path, flooding: FloodingWorker
) -> None:
    """A worker that paused a partition leaves the group (its revocation forgets the pause); the member
    that takes the partition over consumes it unpaused from the last commit, and stores the rest once."""
    topic = kafka.topic("handover")
    flood = [Msg(INVALID_SHIPMENT) for _ in range(15)] + [Msg(valid(n)) for n in range(10)]
    produced = kafka.produce(topic, flood)
    first, _ = flooding(topic)
    with WorkerThread(first) as thread:
        thread.until(lambda: first.source.pauses.is_paused((topic, 0)), 30, "the partition to pause")
        thread.stop()
    assert not first.source.pauses.is_paused((topic, 0))
    assert first.source.committed[(topic, 0)] < len(flood)
    second, _ = flooding(topic)
    with WorkerThread(second) as thread:
        thread.until(
            lambda: second.source.committed == ends_of(produced), 30, "the rest stored and committed"
        )
        assert not second.source.pauses.is_paused((topic, 0))
    stored = Counter(coordinates for _, coordinates in StoreReader(store_path).coordinates())
    assert sorted(stored) == sorted(produced)
    assert set(stored.values()) == {1}
    assert len(store.list_alerts(None, 10)) == 1


def test_admin_refusals_are_problem_documents(
    store: SqliteStore, flooding: FloodingWorker, kafka: Kafka
) -> None:
    """An unknown admin path answers 404 as ``application/problem+json``."""
    _, url = flooding(kafka.topic("problems"))
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url + "/admin/nothing", timeout=10)
    assert refused.value.code == 404
    assert refused.value.headers["content-type"] == "application/problem+json"
    refused.value.close()


def test_a_real_worker_pauses_lists_and_resumes_through_the_cli(
    tmp_path: Path, kafka: Kafka, group: str
) -> None:
    """``sigma-aetl worker`` with SIGMA_AETL_FLOOD_*: a flood pauses the partition (state 2 in /metrics),
    ``worker partitions`` lists it with its alert, ``worker resume`` resumes it, and all is stored once."""
    topic = kafka.topic("real-flood")
    produced = kafka.produce(
        topic, [Msg(INVALID_SHIPMENT) for _ in range(12)] + [Msg(valid(n)) for n in range(5)]
    )
    port, store = free_port(), tmp_path / "worker.db"
    env = {"SIGMA_AETL_FLOOD_CONSECUTIVE_FAILURES": "10", "SIGMA_AETL_FLOOD_PAUSE": "true"}
    args = ["--bootstrap-servers", kafka.bootstrap, "--group", group, "--route", f"{topic}=shipment@1"]
    args += ["--health-port", str(port), "--batch-size", str(BATCH), "--batch-timeout", "0.2"]
    worker = WorkerProcess(store, args, tmp_path / "worker.log", env=env)
    url, cli, reader = f"http://127.0.0.1:{port}", Cli(tmp_path), StoreReader(store)

    def listed() -> list[dict[str, Any]]:
        result = cli.invoke("worker", "partitions", "--url", url, "--json")
        return list(json.loads(result.stdout)["partitions"]) if result.exit_code == 0 else []

    try:
        wait_until(lambda: any(item["paused"] for item in listed()), 30, "the partition paused")
        assert (
            f'partition="{topic}:0"}} 2.0'
            in urllib.request.urlopen(url + "/metrics", timeout=10).read().decode()
        )
        (item,) = listed()
        result = cli.invoke("worker", "resume", topic, "0", "--url", url)
        assert result.exit_code == 0, result.output
        wait_until(lambda: reader.count() == len(produced), 30, "everything stored")
    finally:
        worker.signal(signal.SIGTERM)
        assert worker.wait(30) == 0, worker.log.read_text()[-3000:]
    assert item["alert_id"].startswith("alr_")
    assert sorted(coordinates for _, coordinates in reader.coordinates()) == sorted(produced)
    assert [line["partition"] for line in worker.events("flood.partition_paused")] == [f"{topic}:0"]
