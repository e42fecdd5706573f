"""The Kafka face: explicit routing, message → envelope conversion, the confluent-kafka boundary, output
topics, health, and the worker loop that commits offsets only after the store write (docs/kafka.md).

    routing.py   topic map, else headers; pure
    message.py   KafkaMessage → Envelope, transport metadata, offsets to commit; pure
    config.py    KafkaConfig from the settings, and the librdkafka properties
    client.py    confluent-kafka clients and error translation (the only importer of its exceptions)
    outputs.py   stored records → output topics, idempotent producer
    health.py    readiness state and the /healthz, /readyz endpoint
    worker.py    consume → store → publish → commit, retries with backoff, stop requests

The consumer itself is :class:`sigma_aetl.kafka.source.KafkaSource`.
"""

from sigma_aetl.errors import KafkaClientError
from sigma_aetl.kafka.config import KafkaConfig
from sigma_aetl.kafka.routing import CONTRACT_HEADER, IDEMPOTENCY_HEADER, VERSION_HEADER

__all__ = ["CONTRACT_HEADER", "IDEMPOTENCY_HEADER", "VERSION_HEADER", "KafkaClientError", "KafkaConfig"]
