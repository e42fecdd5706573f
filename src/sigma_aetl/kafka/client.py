"""The boundary with confluent-kafka (librdkafka): clients are built here and its errors translated here.

confluent-kafka is a thin binding over librdkafka, the C client: fetching, batching, compression and
the group protocol run in C threads, and ``consume(n, timeout)`` hands Python a whole batch per call —
which is why the worker uses it rather than a pure-Python client. Nothing beyond the Kafka source and the
output publisher sees a confluent-kafka type, and no ``KafkaException`` leaves this package::

    KafkaException(_INVALID_ARG), ValueError, TypeError   →  ConfigError       (bad properties)
    KafkaException(anything else), fatal client errors    →  KafkaClientError  (a SigmaError)
"""

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from confluent_kafka import (
    TIMESTAMP_CREATE_TIME,
    TIMESTAMP_LOG_APPEND_TIME,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)

from sigma_aetl import logs
from sigma_aetl.errors import ConfigError, KafkaClientError, SigmaError
from sigma_aetl.kafka.message import KafkaMessage, Partition, TimestampType

ErrorCallback = Callable[[KafkaError], None]

_TIMESTAMP_TYPES: dict[int, TimestampType] = {
    TIMESTAMP_CREATE_TIME: "create_time",
    TIMESTAMP_LOG_APPEND_TIME: "log_append_time",
}
# syslog levels (librdkafka) → structlog methods
_LEVELS = {0: "critical", 1: "critical", 2: "critical", 3: "error", 4: "warning", 5: "info", 6: "info"}


@contextmanager
def kafka_errors(doing: str) -> Iterator[None]:
    """Translate confluent-kafka's exceptions raised while ``doing`` something into SIGMA-AETL's own."""
    try:
        yield
    except KafkaException as exc:
        raise translate(exc, doing) from exc
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"Kafka: {doing}: {exc}") from exc


def translate(exc: KafkaException, doing: str) -> SigmaError:
    """A ``KafkaException`` as a ConfigError (invalid property) or a KafkaClientError."""
    error = exc.args[0] if exc.args and isinstance(exc.args[0], KafkaError) else None
    if error is not None and error.code() == KafkaError._INVALID_ARG:
        return ConfigError(f"Kafka: {doing}: {error.str()}")
    return KafkaClientError(f"Kafka: {doing}: {describe(error) if error else exc}")


def describe(error: KafkaError) -> str:
    """``NAME: message`` for logs and exceptions."""
    return f"{error.name()}: {error.str()}"


def new_consumer(properties: Mapping[str, Any], on_error: ErrorCallback) -> Consumer:
    """A consumer with librdkafka's errors and logs routed to ``on_error`` and structlog."""
    with kafka_errors("creating the consumer"):
        return Consumer({**properties, "error_cb": on_error, "logger": LibrdkafkaLog("kafka.consumer")})


def new_producer(properties: Mapping[str, Any], on_error: ErrorCallback) -> Producer:
    """A producer with librdkafka's errors and logs routed to ``on_error`` and structlog."""
    with kafka_errors("creating the producer"):
        return Producer({**properties, "error_cb": on_error, "logger": LibrdkafkaLog("kafka.producer")})


def from_confluent(message: Message) -> KafkaMessage:
    """The plain-data copy of a consumed (error-free) message."""
    kind, timestamp = message.timestamp()
    headers = message.headers()
    return KafkaMessage(  # positional: a named tuple's keyword constructor costs half as much again
        message.topic() or "",
        message.partition() or 0,
        message.offset() or 0,
        message.value(),
        message.key(),
        _headers(headers) if headers else (),
        timestamp if kind in _TIMESTAMP_TYPES else None,
        _TIMESTAMP_TYPES.get(kind),
    )


def _headers(headers: Any) -> tuple[tuple[str, bytes | None], ...]:
    pairs = headers.items() if isinstance(headers, dict) else headers or ()
    return tuple((name, value.encode() if isinstance(value, str) else value) for name, value in pairs)


def topic_partitions(offsets: Mapping[Partition, int]) -> list[TopicPartition]:
    """Offsets to commit as confluent-kafka ``TopicPartition`` objects."""
    return [TopicPartition(topic, partition, offset) for (topic, partition), offset in offsets.items()]


def partitions(items: Iterable[TopicPartition]) -> set[Partition]:
    """``TopicPartition`` objects as plain ``(topic, partition)`` pairs."""
    return {(item.topic, item.partition) for item in items}


class ErrorLog:
    """Logs librdkafka's client errors (``error_cb``), each code at most once per ``every`` seconds.

    An unreachable broker reports an error at every reconnection attempt; the log says it once, then how
    many times it repeated. librdkafka reconnects by itself; a fatal error is always logged.
    """

    def __init__(
        self, component: str, every: float = 30.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._log = logs.get(component)
        self.every = every
        self.clock = clock
        self._last: dict[int, float] = {}
        self._repeated: dict[int, int] = {}

    def __call__(self, error: KafkaError) -> None:
        """Log ``error``, or count it when the same code was logged less than ``every`` seconds ago."""
        code, now = error.code(), self.clock()
        if not error.fatal() and now - self._last.get(code, -self.every) < self.every:
            self._repeated[code] = self._repeated.get(code, 0) + 1
            return
        self._last[code] = now
        repeated = self._repeated.pop(code, 0)
        self._log.warning("kafka client error", error=describe(error), fatal=error.fatal(), repeated=repeated)


class LibrdkafkaLog:
    """A ``logging.Logger`` look-alike that librdkafka writes to; forwards each line to structlog."""

    def __init__(self, component: str) -> None:
        self._log = logs.get(component)

    def log(self, level: int, message: str, *args: Any) -> None:
        """Called by confluent-kafka with a syslog level and a %-format message."""
        method = getattr(self._log, _LEVELS.get(level, "debug"))
        method("librdkafka", detail=message % args if args else message)
