"""Commit after store, against a real broker: ack commits exactly what was stored, and a rebalance hands
over stored work committed and unstored work uncommitted.
"""

from collections.abc import Sequence

import pytest

from kafka_support import Coordinates, Kafka, Msg, ends_of, kafka_config
from sigma_aetl.core.envelope import Envelope
from sigma_aetl.kafka.message import next_offsets
from sigma_aetl.kafka.source import KafkaSource
from sigma_aetl.testing import wait_until


def coordinates(batch: Sequence[Envelope]) -> set[Coordinates]:
    """The (topic, partition, offset) of each envelope."""
    return {(e.source["topic"], e.source["partition"], e.source["offset"]) for e in batch}


def first_batch(source: KafkaSource, timeout: float = 30) -> list[Envelope]:
    """Poll until a non-empty batch arrives."""
    found: list[Envelope] = []

    def arrived() -> bool:
        found.extend(source.poll())
        return bool(found)

    wait_until(arrived, timeout, "a batch", poll=0)
    return found


def test_ack_commits_exactly_the_stored_offsets(kafka: Kafka, group: str) -> None:
    """Acking a batch commits, per partition, one past its highest offset; nothing is committed before."""
    topic = kafka.topic("ack", partitions=2)
    kafka.produce(topic, [Msg(b"{}", partition=n % 2) for n in range(40)])
    source = KafkaSource(kafka_config(kafka, group, topics=(topic,), batch_size=7))
    source.subscribe()
    try:
        batch = first_batch(source)
        assert kafka.committed(group) == {}
        source.ack(batch)
        assert kafka.committed(group) == next_offsets(batch) == source.committed
    finally:
        source.close()
    assert kafka.committed(group) == next_offsets(batch)


def test_a_closed_consumer_hands_over_stored_work_committed_and_unstored_work_not(
    kafka: Kafka, group: str
) -> None:
    """After close, the next consumer starts right after the stored batch and gets the unstored one again."""
    topic = kafka.topic("close")
    kafka.produce(topic, [Msg(b"{}") for _ in range(30)])
    config = kafka_config(kafka, group, topics=(topic,), batch_size=10)
    first = KafkaSource(config)
    first.subscribe()
    stored = first_batch(first)
    first.ack(stored)
    unstored = first_batch(first)  # fetched, never stored: must not be committed
    first.close()
    assert kafka.committed(group) == next_offsets(stored)
    second = KafkaSource(config)
    second.subscribe()
    try:
        again = coordinates(first_batch(second))
        assert min(offset for _, _, offset in again) == next_offsets(stored)[(topic, 0)]
        wait_until(lambda: coordinates(unstored) <= _collect(again, second), 30, "the unstored redelivered")
    finally:
        second.close()


@pytest.mark.parametrize("strategy", ["range", "cooperative-sticky"])
def test_a_rebalance_commits_what_was_stored_and_redelivers_what_was_not(
    kafka: Kafka, group: str, strategy: str
) -> None:
    """When a second member joins, the first lets go of partitions with only stored offsets committed, and
    the unstored batch it had fetched is delivered again on every partition that moved (eager: all of them;
    cooperative: only those handed to the new member, the first keeps its place on the others)."""
    topic = kafka.topic("rebalance", partitions=2)
    produced = kafka.produce(topic, [Msg(b"{}", partition=n % 2) for n in range(24)])
    config = kafka_config(kafka, group, topics=(topic,), batch_size=6, assignment_strategy=strategy)
    first, second = KafkaSource(config), KafkaSource(config)
    first.subscribe()
    try:
        stored = first_batch(first)
        first.ack(stored)
        unstored = first_batch(first)
        second.subscribe()
        seen = _poll_until_both_assigned(first, second, set(ends_of(produced)))
        assert kafka.committed(group) == next_offsets(stored)
        moved = {c for c in coordinates(unstored) if strategy == "range" or c[:2] in second.assigned}
        wait_until(lambda: moved <= _collect(seen, first, second), 30, "the unstored redelivered")
    finally:
        first.close()
        second.close()
    assert first.ever_assigned
    assert second.ever_assigned


def _poll_until_both_assigned(
    first: KafkaSource, second: KafkaSource, everything: set[tuple[str, int]]
) -> set[Coordinates]:
    seen: set[Coordinates] = set()

    def balanced() -> bool:
        _collect(seen, first, second)
        return (
            bool(first.assigned) and bool(second.assigned) and first.assigned | second.assigned == everything
        )

    wait_until(balanced, 60, "both members to own partitions", poll=0)
    return seen


def _collect(seen: set[Coordinates], *sources: KafkaSource) -> set[Coordinates]:
    for source in sources:
        seen |= coordinates(source.poll())
    return seen
