"""The worker's ``/metrics`` on its health port, with the real broker: its counts equal the store's stats,
and the consumer lag of each partition it consumes is reported."""

import signal
import urllib.request
from pathlib import Path

from cli_support import CONTRACTS
from kafka_support import Kafka, Msg, WorkerProcess, free_port, kafka_config
from metrics_support import assert_metrics_match_stats, samples
from sigma_aetl.contracts.loader import load_registry
from sigma_aetl.ingest.metrics import Metrics
from sigma_aetl.kafka.source import KafkaSource
from sigma_aetl.stores.sqlite.store import SqliteStore
from sigma_aetl.testing import HEAVY_SHIPMENT, INVALID_SHIPMENT, TRUNCATED, VALID_SHIPMENT, wait_until


def scrape(port: int) -> str:
    """``GET /metrics`` on the health port; '' while it does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
            return str(response.read().decode())
    except OSError:
        return ""


def events_counted(text: str) -> float:
    """Every event the metrics counted."""
    return sum(samples(text, "sigma_aetl_events_total").values())


def test_worker_metrics_match_stats_and_report_lag(tmp_path: Path, kafka: Kafka, group: str) -> None:
    """A mixed topic on two partitions (valid, invalid, a repeated and a conflicting shipment) consumed by
    a real ``sigma-aetl worker``: ``/metrics`` counts equal the store's stats, labelled source ``kafka``,
    and each partition's consumer lag is reported and falls to 0 once everything is consumed."""
    topic = kafka.topic("metrics", partitions=2)
    bodies = [VALID_SHIPMENT, VALID_SHIPMENT, INVALID_SHIPMENT, TRUNCATED, HEAVY_SHIPMENT]
    bodies += [VALID_SHIPMENT.replace(b"Dublin", b"Cork")]  # an identity conflict
    messages = [Msg(body, partition=n % 2) for n, body in enumerate(bodies * 4)]
    kafka.produce(topic, messages)
    port, store = free_port(), tmp_path / "worker.db"
    args = ["--bootstrap-servers", kafka.bootstrap, "--group", group, "--route", f"{topic}=shipment@1"]
    worker = WorkerProcess(store, [*args, "--health-port", str(port)], tmp_path / "worker.log")
    try:
        wait_until(lambda: events_counted(scrape(port)) == len(messages), 60, "every message counted")
        lag = {}

        def caught_up() -> bool:
            lag.update(samples(scrape(port), "sigma_aetl_kafka_consumer_lag"))
            return len(lag) == 2 and set(lag.values()) == {0.0}

        wait_until(caught_up, 30, "the lag of both partitions at 0")
        text = scrape(port)
    finally:
        worker.signal(signal.SIGTERM)
        assert worker.wait(30) == 0, worker.log.read_text()[-3000:]
    assert {dict(labels)["partition"] for labels in lag} == {"0", "1"}
    reader = SqliteStore(store, writer="inline")
    try:
        stats = reader.stats().model_dump()
    finally:
        reader.close()
    registered = {contract.ref for contract in load_registry(CONTRACTS).all()}
    assert_metrics_match_stats(text, stats, registered)
    sources = {dict(labels)["source"] for labels in samples(text, "sigma_aetl_events_total")}
    assert sources == {"kafka"}


def test_lag_is_what_is_left_after_a_batch(kafka: Kafka, group: str) -> None:
    """A source that has consumed a first batch (of at most 2) of 10 messages reports the rest as the
    partition's lag, and 0 once it has consumed them all."""
    topic = kafka.topic("lag")
    kafka.produce(topic, [Msg(VALID_SHIPMENT) for _ in range(10)])
    metrics = Metrics("kafka")
    config = kafka_config(kafka, group, routes={topic: ("shipment", "1")}, batch_size=2)
    source = KafkaSource(config, metrics=metrics)
    source.subscribe()
    consumed: list[int] = []

    def polled(total: int) -> bool:
        consumed.append(len(source.poll()))
        return sum(consumed) >= total

    def lag() -> dict[tuple[tuple[str, str], ...], float]:
        return samples(metrics.exposition().decode(), "sigma_aetl_kafka_consumer_lag")

    try:
        wait_until(lambda: polled(1), 30, "a first batch")
        first, read = lag(), sum(consumed)
        wait_until(lambda: polled(10), 30, "every message")
        last = lag()
    finally:
        source.close()
    key = (("partition", "0"), ("topic", topic))
    assert first == {key: 10.0 - read}
    assert last == {key: 0.0}
