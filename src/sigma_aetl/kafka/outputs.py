"""Output topics: each stored record of a batch, produced after the store write and before the commit.

Accepted records go to the accepted topic keyed by ``record_id``, failure records to the failed topic keyed
by ``failure_id``; the value is the stored record as JSON (the same document ``GET /v1/records/{id}`` or
``GET /v1/failures/{id}`` answers), with a ``sigma-kind`` header (``accepted`` or ``failure``).

Every record a batch resolves to is produced — also when it was already stored (a redelivery) — because
the run that stored it may have crashed before producing it. Downstream therefore sees each record at
least once, always under the same key: deduplicate by key, or use a compacted topic. The producer is
idempotent (``enable.idempotence=true``, ``acks=all``), so its own retries add no copies; ``publish``
returns only once every message is acknowledged by the brokers, and raises otherwise, so the worker
retries the batch instead of committing it.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from confluent_kafka import KafkaError, Message, Producer

from sigma_aetl import logs
from sigma_aetl.core import serial
from sigma_aetl.core.records import StoredRecord
from sigma_aetl.errors import KafkaClientError, StoreError
from sigma_aetl.ingest.outcome import Outcome
from sigma_aetl.kafka.client import ErrorLog, describe, kafka_errors, new_producer
from sigma_aetl.kafka.config import KafkaConfig
from sigma_aetl.stores.base import Store

KIND_HEADER = "sigma-kind"

_log = logs.get("kafka.outputs")


@dataclass(frozen=True, slots=True)
class OutputMessage:
    """One message for an output topic."""

    topic: str
    key: str
    value: bytes
    kind: str


class OutputPublisher:
    """Produces the stored records of a batch to the output topics, and waits for the brokers."""

    def __init__(self, config: KafkaConfig, store: Store, *, flush_timeout: float = 30.0) -> None:
        self.accepted_topic = config.accepted_topic
        self.failed_topic = config.failed_topic
        self.store = store
        self.flush_timeout = flush_timeout
        self.produced = 0
        self._errors: list[str] = []
        self._producer: Producer = new_producer(config.producer_properties(), ErrorLog("kafka.producer"))

    def publish(self, outcomes: Sequence[Outcome]) -> None:
        """Produce the record behind each outcome once; raises KafkaClientError unless all are delivered."""
        messages = self.messages(outcomes)
        self._errors = []
        for message in messages:
            self._produce(message)
        with kafka_errors("flushing the output topics"):
            remaining = self._producer.flush(self.flush_timeout)
        if remaining or self._errors:
            problem = self._errors[0] if self._errors else f"{remaining} messages still in flight"
            raise KafkaClientError(f"Kafka: output topics: {problem}")
        self.produced += len(messages)

    def messages(self, outcomes: Sequence[Outcome]) -> list[OutputMessage]:
        """One message per distinct record behind ``outcomes``, read back from the store."""
        found: dict[str, OutputMessage] = {}
        for outcome in outcomes:
            message = self._message(outcome) if _id_of(outcome) not in found else None
            if message is not None:
                found[message.key] = message
        return list(found.values())

    def close(self) -> None:
        """Deliver anything still queued (nothing is, after a successful publish)."""
        with kafka_errors("flushing the output topics"):
            self._producer.flush(self.flush_timeout)

    def _message(self, outcome: Outcome) -> OutputMessage | None:
        if outcome.record_id is not None and self.accepted_topic is not None:
            record = self.store.get_record(outcome.record_id)
            return self._wrap(self.accepted_topic, outcome.record_id, record, "accepted")
        if outcome.failure_id is not None and self.failed_topic is not None:
            failure = self.store.get_failure(outcome.failure_id)
            return self._wrap(self.failed_topic, outcome.failure_id, failure, "failure")
        return None

    @staticmethod
    def _wrap(topic: str, key: str, record: StoredRecord | None, kind: str) -> OutputMessage:
        if record is None:
            raise StoreError(f"{key} was stored but cannot be read back")
        return OutputMessage(topic, key, serial.dumps(record), kind)

    def _produce(self, message: OutputMessage) -> None:
        headers: list[tuple[str, str | bytes | None]] = [(KIND_HEADER, message.kind.encode())]
        while True:
            try:
                with kafka_errors("producing to the output topics"):
                    self._producer.produce(
                        message.topic,
                        message.value,
                        message.key,
                        headers=headers,
                        on_delivery=self._delivered,
                    )
                return
            except BufferError:  # the local queue is full: let deliveries drain it, then go on
                self._producer.poll(0.1)

    def _delivered(self, error: KafkaError | None, _message: Message) -> None:
        if error is not None:
            self._errors.append(describe(error))


def _id_of(outcome: Outcome) -> str | None:
    return outcome.record_id or outcome.failure_id
