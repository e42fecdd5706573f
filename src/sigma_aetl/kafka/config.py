"""The worker's Kafka configuration, checked once from the settings, and the librdkafka properties it implies.

The properties that make the delivery guarantee are fixed here and cannot be overridden by the extra
``kafka_*config`` maps: no automatic commit and no automatic offset store on the consumer (offsets are
committed by the worker, after the store write), an idempotent producer for the output topics.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sigma_aetl.contracts.registry import Registry
from sigma_aetl.errors import ConfigError
from sigma_aetl.kafka.routing import route_map
from sigma_aetl.settings import KAFKA_BATCH_SIZE, Settings

ConfigValue = str | int | float | bool

_CONSUMER_FIXED: dict[str, ConfigValue] = {
    "enable.auto.commit": False,
    "enable.auto.offset.store": False,
}
_PRODUCER_FIXED: dict[str, ConfigValue] = {"enable.idempotence": True, "acks": "all"}
_OWNED = {
    "bootstrap.servers",
    "group.id",
    "group.instance.id",
    "partition.assignment.strategy",
    "auto.offset.reset",
    *_CONSUMER_FIXED,
    *_PRODUCER_FIXED,
}


@dataclass(frozen=True)
class KafkaConfig:
    """What the worker consumes, how it routes, batches, retries and publishes."""

    bootstrap_servers: str
    group_id: str
    routes: dict[str, tuple[str, str]]
    topics: tuple[str, ...]
    batch_size: int = KAFKA_BATCH_SIZE
    """Most messages per consumer batch; the pipeline stores it in transactions of its own size."""
    batch_timeout: float = 1.0
    accepted_topic: str | None = None
    failed_topic: str | None = None
    auto_offset_reset: str = "earliest"
    group_instance_id: str | None = None
    """Static membership: a restarted member with this id takes its partitions back without a rebalance."""
    assignment_strategy: str = "cooperative-sticky"
    retry_initial: float = 0.5
    retry_max: float = 30.0
    common: Mapping[str, ConfigValue] = field(default_factory=dict)
    consumer_extra: Mapping[str, ConfigValue] = field(default_factory=dict)
    producer_extra: Mapping[str, ConfigValue] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> "KafkaConfig":
        """Check and gather the ``kafka_*`` settings; raises ConfigError when they cannot work."""
        config = cls(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            group_id=settings.kafka_group_id,
            routes=_routes(settings.kafka_routes),
            topics=subscribed_topics(settings.kafka_routes, settings.kafka_topics),
            batch_size=settings.kafka_batch_size,
            batch_timeout=settings.kafka_batch_timeout,
            accepted_topic=settings.kafka_accepted_topic or None,
            failed_topic=settings.kafka_failed_topic or None,
            auto_offset_reset=settings.kafka_auto_offset_reset,
            group_instance_id=settings.kafka_group_instance_id,
            assignment_strategy=settings.kafka_assignment_strategy,
            retry_initial=settings.kafka_retry_initial,
            retry_max=max(settings.kafka_retry_max, settings.kafka_retry_initial),
            common=settings.kafka_config,
            consumer_extra=settings.kafka_consumer_config,
            producer_extra=settings.kafka_producer_config,
        )
        config.check()
        return config

    @property
    def publishes(self) -> bool:
        """Whether stored records are produced to an output topic."""
        return self.accepted_topic is not None or self.failed_topic is not None

    def check(self) -> None:
        """Raise ConfigError for a configuration that cannot work (nothing to consume, a feedback loop...)."""
        if not self.topics:
            raise ConfigError(
                "the worker has no topic to consume: give --route TOPIC=NAME@VERSION or --topic TOPIC "
                "(or SIGMA_AETL_KAFKA_ROUTES / SIGMA_AETL_KAFKA_TOPICS)"
            )
        looping = {self.accepted_topic, self.failed_topic} & set(self.topics)
        if looping:
            raise ConfigError(f"output topic {looping.pop()!r} is also consumed; that would loop forever")
        for extra in (self.common, self.consumer_extra, self.producer_extra):
            _refuse_owned(extra)

    def check_contracts(self, registry: Registry) -> None:
        """Every routed contract@version exists; a typo in the map is the operator's, not the events'."""
        for name, version in self.routes.values():
            registry.require(f"{name}@{version}")

    def consumer_properties(self) -> dict[str, Any]:
        """librdkafka properties of the consumer."""
        owned: dict[str, ConfigValue] = {
            "group.id": self.group_id,
            "auto.offset.reset": self.auto_offset_reset,
            "partition.assignment.strategy": self.assignment_strategy,
        }
        if self.group_instance_id is not None:
            owned["group.instance.id"] = self.group_instance_id
        return {**self._base(), **self.consumer_extra, **owned, **_CONSUMER_FIXED}

    def producer_properties(self) -> dict[str, Any]:
        """librdkafka properties of the output producer."""
        return {**self._base(), **self.producer_extra, **_PRODUCER_FIXED}

    def _base(self) -> dict[str, Any]:
        return {**self.common, "bootstrap.servers": self.bootstrap_servers}


def subscribed_topics(routes: Mapping[str, str], topics: list[str]) -> tuple[str, ...]:
    """The routed topics, then the header-routed ones, each once, in the order given."""
    return tuple(dict.fromkeys([*routes, *topics]))


def _routes(routes: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    try:
        return route_map(routes)
    except ValueError as exc:
        raise ConfigError(f"kafka route: {exc}") from None


def _refuse_owned(extra: Mapping[str, ConfigValue]) -> None:
    owned = sorted(_OWNED & set(extra))
    if owned:
        raise ConfigError(
            f"librdkafka properties {', '.join(owned)} are set by the worker (its own options, or the "
            "delivery guarantee) and cannot be overridden"
        )
