"""A Kafka consumer group as a source: batches of envelopes, and offsets committed only after the store.

The rules that make the worker's effect exactly-once, given idempotent stores:

- librdkafka never commits nor stores an offset by itself (``enable.auto.commit=false``,
  ``enable.auto.offset.store=false``); the only commits are in :meth:`KafkaSource.ack` and on revocation.
- :meth:`~KafkaSource.ack` is called only once a batch is durably stored. It commits, synchronously, the
  highest stored offset plus one of each partition the batch touched — exactly what was stored — and only
  for partitions this consumer still owns. A partition taken away during the ``consume()`` call that
  fetched the batch is left to its new owner, who re-reads from the last commit (and writes nothing new).
- Stored offsets whose commit failed stay *pending*: the next ack retries them, and when partitions are
  revoked (a rebalance, or :meth:`~KafkaSource.close`) the pending offsets of those partitions are
  committed before they are let go. A *lost* assignment (the group evicted this member) cannot commit;
  its pending offsets are dropped and the new owner redelivers.
- A batch that was fetched but not stored is never in *pending*, so nothing unstored is ever committed.

Rebalance callbacks run inside ``consume()`` and ``close()``, in the worker's own thread, never in the
middle of processing a batch.

For readiness the source also keeps when a broker last answered (:attr:`KafkaSource.last_contact`: a
consumed batch, an assignment, a :meth:`~KafkaSource.probe`) and whether the group has assigned this
member its partitions (:attr:`~KafkaSource.joined`). With metrics, each batch sets the consumer lag of
the partitions it came from: the high watermark librdkafka last fetched (cached, no request) minus the
consumer's position; a partition revoked or lost is no longer reported.
"""

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from sigma_aetl import logs
from sigma_aetl.core.envelope import Envelope
from sigma_aetl.errors import KafkaClientError
from sigma_aetl.ingest.metrics import Metrics
from sigma_aetl.kafka.client import (
    ErrorLog,
    describe,
    from_confluent,
    kafka_errors,
    new_consumer,
    partitions,
    topic_partitions,
)
from sigma_aetl.kafka.config import KafkaConfig
from sigma_aetl.kafka.message import Partition, next_offsets, to_envelope
from sigma_aetl.kafka.pauses import Pauses

Clock = Callable[[], datetime]

_log = logs.get("kafka.source")


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


class KafkaSource:
    """Envelopes from a consumer group, in batches; :meth:`ack` commits what was stored."""

    def __init__(
        self, config: KafkaConfig, *, clock: Clock = utc_now, metrics: Metrics | None = None
    ) -> None:
        self.config = config
        self.clock = clock
        self.metrics = metrics
        self.assigned: set[Partition] = set()
        self.ever_assigned: set[Partition] = set()
        self.committed: dict[Partition, int] = {}
        """The latest offset this source committed, per partition."""
        self._pending: dict[Partition, int] = {}
        self.pauses = Pauses()
        """Which partitions the flood guard paused, shared with the admin endpoints (``pauses.py``)."""
        self.joined = False
        """The group has assigned this member its partitions (possibly none), and not taken them as lost."""
        self.last_contact: float | None = None
        """``time.monotonic()`` when a broker last answered; None before the first answer."""
        self._fatal: KafkaError | None = None
        self._errors = ErrorLog("kafka.consumer")
        self._consumer: Consumer = new_consumer(config.consumer_properties(), self._on_error)

    def subscribe(self) -> None:
        """Join the group on the configured topics; partitions arrive with the first ``consume()``."""
        with kafka_errors("subscribing"):
            self._consumer.subscribe(
                list(self.config.topics),
                on_assign=self._on_assign,
                on_revoke=self._on_revoke,
                on_lost=self._on_lost,
            )
        config = self.config
        _log.info(
            "subscribed",
            topics=list(config.topics),
            group=config.group_id,
            instance=config.group_instance_id,
            strategy=config.assignment_strategy,
        )

    def poll(self, timeout: float | None = None) -> list[Envelope]:
        """One ``consume()`` call: up to ``batch_size`` messages within ``timeout`` seconds (default
        ``batch_timeout``; 0: only what librdkafka has already fetched), possibly none. Batches are acked
        in the order they were polled."""
        wait = self.config.batch_timeout if timeout is None else timeout
        with kafka_errors("consuming"):
            messages = self._consumer.consume(self.config.batch_size, wait)
        self._raise_fatal()
        usable = [message for message in messages if _usable(message)]
        if usable:  # an error event is no proof that a broker answers
            self.last_contact = time.monotonic()
            self._report_lag(usable)
        received_at = self.clock()
        routes, group = self.config.routes, self.config.group_id
        return [to_envelope(from_confluent(m), routes, group, received_at) for m in usable]

    def ack(self, batch: Sequence[Envelope]) -> None:
        """Commit the offsets of a stored batch, for the partitions this consumer still owns."""
        stored = next_offsets(batch)
        handed_over = sorted(stored.keys() - self.assigned)
        if handed_over:
            _log.info("not committing partitions handed over", partitions=handed_over)
        for where in stored.keys() & self.assigned:
            self._pending[where] = max(self._pending.get(where, 0), stored[where])
        self._commit(set(self._pending))

    def pause(self, where: Partition) -> None:
        """Stop fetching ``where``: what was consumed stays consumed (and is stored, then committed); the
        next message is fetched from there once resumed. Raises KafkaClientError."""
        with kafka_errors(f"pausing {where}"):
            self._consumer.pause([TopicPartition(*where)])

    def resume(self, where: Partition) -> None:
        """Fetch ``where`` again, from the message after the last one consumed. Raises KafkaClientError."""
        with kafka_errors(f"resuming {where}"):
            self._consumer.resume([TopicPartition(*where)])

    def probe(self, timeout: float) -> None:
        """Ask a broker for the first topic's metadata; raises KafkaClientError when none answers in time."""
        with kafka_errors(f"asking {self.config.bootstrap_servers} for metadata"):
            self._consumer.list_topics(topic=self.config.topics[0], timeout=timeout)
        self.last_contact = time.monotonic()

    def close(self) -> None:
        """Commit what is stored and pending, leave the group (revoking the partitions), close the client."""
        self._commit(set(self._pending))
        with kafka_errors("closing the consumer"):
            self._consumer.close()
        _log.info("consumer closed", group=self.config.group_id)

    def _report_lag(self, messages: list[Message]) -> None:
        """Set the consumer lag of each partition ``messages`` came from (local reads only)."""
        if self.metrics is None:
            return
        for topic, partition in {(m.topic(), m.partition()) for m in messages}:
            if topic is None or partition is None:
                continue
            where = TopicPartition(topic, partition)
            try:
                high = self._consumer.get_watermark_offsets(where, cached=True)
                (position,) = self._consumer.position([where])
            except KafkaException:  # not known yet: the next batch tells
                continue
            if high is not None and high[1] >= 0 and position.offset >= 0:
                self.metrics.lag(topic, partition, high[1] - position.offset)

    def _commit(self, which: set[Partition]) -> None:
        offsets = {where: self._pending[where] for where in which & self._pending.keys()}
        if not offsets:
            return
        try:
            results = self._consumer.commit(offsets=topic_partitions(offsets), asynchronous=False)
        except KafkaException as exc:
            _log.warning("commit failed; the stored messages will be redelivered", error=str(exc))
            return
        self._settle(offsets, results)

    def _settle(self, offsets: dict[Partition, int], results: list[TopicPartition]) -> None:
        failed = {(r.topic, r.partition): r.error for r in results if r.error is not None}
        for where, offset in offsets.items():
            if where in failed:
                _log.warning("commit failed", partition=where, error=describe(failed[where]))
                continue
            self.committed[where] = offset
            if self._pending.get(where) == offset:
                del self._pending[where]

    def _on_assign(self, _consumer: Consumer, assigned: list[TopicPartition]) -> None:
        self.assigned |= partitions(assigned)
        self.ever_assigned |= self.assigned
        self.pauses.assigned(self.assigned)
        self.joined = True
        self.last_contact = time.monotonic()
        _log.info("partitions assigned", partitions=sorted(partitions(assigned)))

    def _on_revoke(self, _consumer: Consumer, revoked: list[TopicPartition]) -> None:
        gone = partitions(revoked)
        self._commit(gone)
        self._forget(gone, "partitions revoked")

    def _on_lost(self, _consumer: Consumer, lost: list[TopicPartition]) -> None:
        self.joined = False
        self._forget(partitions(lost), "partitions lost; their new owner redelivers uncommitted messages")

    def _forget(self, gone: set[Partition], event: str) -> None:
        uncommitted = sorted(gone & self._pending.keys())
        for where in gone:
            self._pending.pop(where, None)
            if self.metrics is not None:
                self.metrics.forget_partition(*where)
        self.assigned -= gone
        self.pauses.released(gone)  # a new owner starts unpaused (see pauses.py)
        _log.info(event, partitions=sorted(gone), uncommitted=uncommitted)

    def _on_error(self, error: KafkaError) -> None:
        if error.fatal():
            self._fatal = error
        self._errors(error)

    def _raise_fatal(self) -> None:
        if self._fatal is not None:
            raise KafkaClientError(f"Kafka: fatal client error: {describe(self._fatal)}")


def _usable(message: Message) -> bool:
    """A data message; an error event (e.g. an unknown topic) is logged, and is not a message to store."""
    error = message.error()
    if error is None:
        return True
    if error.fatal():
        raise KafkaClientError(f"Kafka: fatal consumer error: {describe(error)}")
    _log.warning("kafka consumer event", error=describe(error), topic=message.topic())
    return False
