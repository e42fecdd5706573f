"""Moving the worker's consumer group back (or forward) on a topic, so it consumes again from there.

``sigma-aetl kafka reset-offsets`` does what ``kafka-consumer-groups.sh --reset-offsets`` does, with the
Kafka client the worker already has: the target offset of each partition is found with the admin API
(``list_offsets``: the earliest offset, or the first offset at or after a time), and the group's committed
offsets are set with ``alter_consumer_group_offsets``. The group must have no active member — a running
worker would commit over the reset — so a group that is not empty (or dead) is refused. Re-consuming
writes nothing new: every record and failure id is deterministic, so each message comes back as a
duplicate (see docs/audit.md, "Re-consuming Kafka").
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from confluent_kafka import ConsumerGroupState, ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.admin._listoffsets import OffsetSpec  # not re-exported under a name mypy sees
from pydantic import BaseModel, Field

from sigma_aetl.errors import KafkaClientError
from sigma_aetl.kafka.client import kafka_errors
from sigma_aetl.settings import Settings

TIMEOUT = 10.0
"""Seconds each admin request may take."""
_IDLE = {ConsumerGroupState.EMPTY, ConsumerGroupState.DEAD}
"""Group states with no member: a reset cannot be overwritten by a running consumer's commit."""
_EARLIEST = OffsetSpec.earliest()  # type: ignore[no-untyped-call]  # confluent-kafka leaves it untyped
_LATEST = OffsetSpec.latest()  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class ResetTarget:
    """Where to move the group on each partition: ``earliest``, an ``offset``, or a ``datetime``."""

    to: Literal["earliest", "offset", "datetime"]
    offset: int | None = None
    at: datetime | None = None

    def describe(self) -> str:
        """The target as the command line names it."""
        if self.to == "offset":
            return f"offset {self.offset}"
        if self.to == "datetime" and self.at is not None:
            return f"the first message at or after {self.at.isoformat()}"
        return "the earliest offset"


class PartitionReset(BaseModel):
    """One partition's committed offset before the reset, and after it."""

    topic: str
    partition: int
    before: int | None = Field(description="The group's committed offset before; null when none.")
    after: int = Field(description="The committed offset the group resumes from.")


class ResetReport(BaseModel):
    """What a reset did (or, in a dry run, would do)."""

    group: str
    target: str = Field(description="Where the group was moved, in words.")
    applied: bool = Field(description="False in a dry run: nothing was committed.")
    partitions: list[PartitionReset]


def admin_properties(settings: Settings) -> dict[str, Any]:
    """The admin client's librdkafka properties: the common ones (security...) and the brokers."""
    return {**settings.kafka_config, "bootstrap.servers": settings.kafka_bootstrap_servers, "log_level": 0}


def reset_offsets(
    properties: Mapping[str, Any],
    group: str,
    topic: str,
    target: ResetTarget,
    *,
    partition: int | None = None,
    dry_run: bool = False,
) -> ResetReport:
    """Move ``group`` on ``topic`` (every partition, or ``partition``) to ``target``; raises
    KafkaClientError when the group has an active member, the topic or partition does not exist, or the
    brokers refuse, and ConfigError for bad properties."""
    with kafka_errors("creating the admin client"):
        admin = AdminClient(dict(properties))
    require_idle(admin, group)
    partitions = _partitions(admin, topic, partition)
    before = _committed(admin, group, partitions)
    after = _targets(admin, partitions, target)
    if not dry_run:
        _commit(admin, group, partitions, after)
    rows = [
        PartitionReset(topic=tp.topic, partition=tp.partition, before=before.get(tp.partition), after=offset)
        for tp, offset in zip(partitions, after, strict=True)
    ]
    return ResetReport(group=group, target=target.describe(), applied=not dry_run, partitions=rows)


def require_idle(admin: AdminClient, group: str) -> None:
    """Raise KafkaClientError unless ``group`` has no active member (empty, or never used)."""
    with kafka_errors(f"describing consumer group {group!r}"):
        found = admin.describe_consumer_groups([group], request_timeout=TIMEOUT)[group].result(
            timeout=TIMEOUT
        )
    if found.members or found.state not in _IDLE:
        raise KafkaClientError(
            f"consumer group {group!r} has active members (state {found.state.name.lower()}): stop every "
            "worker of the group first — and after a worker was killed, wait for its session timeout — "
            "then reset; a running member would commit over the reset"
        )


def _partitions(admin: AdminClient, topic: str, only: int | None) -> list[TopicPartition]:
    with kafka_errors(f"reading the partitions of topic {topic!r}"):
        # every topic's metadata, not the one topic's: a broker may create a topic it is asked about
        metadata = admin.list_topics(timeout=TIMEOUT).topics.get(topic)
    if metadata is None or metadata.error is not None or not metadata.partitions:
        raise KafkaClientError(f"topic {topic!r} does not exist on the brokers")
    known = sorted(metadata.partitions)
    if only is not None and only not in known:
        raise KafkaClientError(
            f"topic {topic!r} has no partition {only} (partitions: {known[0]}-{known[-1]})"
        )
    return [TopicPartition(topic, number) for number in known if only in (None, number)]


def _committed(admin: AdminClient, group: str, partitions: list[TopicPartition]) -> dict[int, int]:
    request = [ConsumerGroupTopicPartitions(group, partitions)]
    with kafka_errors(f"reading the committed offsets of group {group!r}"):
        found = admin.list_consumer_group_offsets(request)[group].result(timeout=TIMEOUT)
    return {tp.partition: tp.offset for tp in found.topic_partitions or [] if tp.offset >= 0}


def _targets(admin: AdminClient, partitions: list[TopicPartition], target: ResetTarget) -> list[int]:
    """The offset to resume from on each partition, in order."""
    earliest = _listed(admin, partitions, _EARLIEST)
    if target.to == "earliest":
        return earliest
    if target.to == "offset":
        assert target.offset is not None
        low = [first for first in earliest if first > target.offset]
        if low:
            raise KafkaClientError(
                f"offset {target.offset} is before the earliest offset kept ({max(low)}): use --to-earliest"
            )
        return [target.offset] * len(partitions)
    assert target.at is not None
    millis = int(target.at.timestamp() * 1000)
    return _listed(admin, partitions, OffsetSpec.for_timestamp(millis))


def _listed(admin: AdminClient, partitions: list[TopicPartition], spec: OffsetSpec) -> list[int]:
    with kafka_errors("listing offsets"):
        futures = admin.list_offsets(dict.fromkeys(partitions, spec), request_timeout=TIMEOUT)
        found = {tp.partition: future.result(timeout=TIMEOUT).offset for tp, future in futures.items()}
    if any(offset < 0 for offset in found.values()):  # no message at or after the time: the end
        ends = _listed(admin, partitions, _LATEST)
        pairs = zip(partitions, ends, strict=True)
        return [found[tp.partition] if found[tp.partition] >= 0 else end for tp, end in pairs]
    return [found[tp.partition] for tp in partitions]


def _commit(admin: AdminClient, group: str, partitions: list[TopicPartition], offsets: list[int]) -> None:
    moved = [
        TopicPartition(tp.topic, tp.partition, offset) for tp, offset in zip(partitions, offsets, strict=True)
    ]
    with kafka_errors(f"committing the offsets of group {group!r}"):
        done = admin.alter_consumer_group_offsets([ConsumerGroupTopicPartitions(group, moved)])
        result = done[group].result(timeout=TIMEOUT)
    refused = [tp for tp in result.topic_partitions or [] if tp.error is not None]
    if refused:
        raise KafkaClientError(f"the brokers refused the offsets of group {group!r}: {refused[0].error}")
