"""Settings, read once at the edge (environment variables prefixed ``SIGMA_AETL_``) and passed in, frozen."""

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from sigma_aetl.core.jsonparse import Limits
from sigma_aetl.core.refs import parse_ref
from sigma_aetl.redact import redact

TRANSACTION_SIZE = 1000
"""Events per store transaction unless configured. The pipeline stores larger batches as consecutive
transactions of this size, deciding one while the store writes the one before."""
PREFIX_KEPT = 65_536
"""How much of an event too large to read whole a failure record keeps: an HTTP body over
``max_request_bytes``, a file line over ``max_event_bytes`` (or over this, whichever is larger)."""
KAFKA_BATCH_SIZE = 5000
"""Most Kafka messages per consumer batch (stored, then committed together) unless configured."""


class Settings(BaseSettings):
    """Everything the gateway can be told. Each field is also an env var: ``SIGMA_AETL_STORE_URL`` etc."""

    model_config = SettingsConfigDict(env_prefix="SIGMA_AETL_", frozen=True, extra="forbid")

    store_url: str = Field(
        default="sqlite:///data/sigma-aetl.db",
        description="Where records live: sqlite:///relative.db, sqlite:////absolute.db, mongodb://host/db.",
    )
    contracts_dir: Path = Field(default=Path("contracts"), description="The contracts directory.")
    contracts_watch_interval: float = Field(
        default=0,
        ge=0,
        le=3600,
        description="`serve` and `worker` check the contract files and the lock every this many seconds "
        "and reload the contracts when one changed; 0 (the default) checks only on SIGHUP.",
    )
    host: str = Field(default="127.0.0.1", description="HTTP listen address.")
    port: int = Field(default=8000, ge=0, le=65535, description="HTTP listen port.")
    default_contract: str | None = Field(
        default="shipment_compat@1",
        description="The contract `POST /api/validate` checks against, NAME@VERSION; empty for none. One "
        "that is not loaded is no start-up error: the gateway warns, and that route answers 404 saying so. "
        "The default, shipment_compat@1, is shipment@1 ignoring (and listing) undeclared top-level fields, "
        "as the original validator's clients send them.",
    )
    max_event_bytes: int = Field(
        default=1_048_576,
        ge=1,
        description="Largest single event, in bytes; a file line over it is read in bounded memory and only "
        "its first 64 KiB are kept.",
    )
    max_request_bytes: int = Field(
        default=16_777_216, ge=1, description="Largest HTTP request body; larger ones are refused with 413."
    )
    max_depth: int = Field(default=64, ge=1, le=200, description="Deepest JSON nesting accepted.")
    transaction_size: int = Field(
        default=TRANSACTION_SIZE,
        ge=1,
        le=100_000,
        description="Events per store transaction, for every face: an HTTP group or batch, a file, a Kafka "
        "batch. Larger batches are stored as consecutive transactions of this size.",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(default="info", description="Log level.")
    access_log: bool = Field(
        default=False, description="`serve` logs one line per HTTP request (uvicorn's access log)."
    )
    forwarded_allow_ips: str | None = Field(
        default=None,
        description="Proxies whose X-Forwarded-For and X-Forwarded-Proto `serve` trusts: comma-separated "
        "addresses or networks, or `*`. Unset, none is trusted: the client is the peer's own address "
        "(the headers are still recorded with each event).",
    )

    # The Kafka worker (``sigma-aetl worker``); see docs/kafka.md.
    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092", description="Kafka brokers: host:port, comma-separated."
    )
    kafka_group_id: str = Field(
        default="sigma-aetl", min_length=1, description="The worker's consumer group."
    )
    kafka_routes: dict[str, str] = Field(
        default_factory=dict,
        description='Topic → contract@version; JSON in the environment: {"shipments": "shipment@1"}.',
    )
    kafka_topics: list[str] = Field(
        default_factory=list,
        description='More topics to consume, routed by message headers; JSON list: ["events"].',
    )
    kafka_batch_size: int = Field(
        default=KAFKA_BATCH_SIZE,
        ge=1,
        le=100_000,
        description="Most messages per consumer batch: stored (in transactions of `transaction_size`), "
        "then committed together.",
    )
    kafka_batch_timeout: float = Field(
        default=1.0, gt=0, le=60, description="Seconds to wait for a batch to fill before processing it."
    )
    kafka_accepted_topic: str | None = Field(
        default=None, description="Produce each stored accepted record to this topic."
    )
    kafka_failed_topic: str | None = Field(
        default=None, description="Produce each stored failure record to this topic."
    )
    kafka_health_port: int | None = Field(
        default=None, ge=0, le=65535, description="Serve /healthz and /readyz on this port (on `host`)."
    )
    kafka_auto_offset_reset: Literal["earliest", "latest"] = Field(
        default="earliest", description="Where a group with no committed offset starts."
    )
    kafka_retry_initial: float = Field(
        default=0.5, gt=0, le=60, description="First delay, in seconds, before retrying a failed batch."
    )
    kafka_retry_max: float = Field(
        default=30.0, gt=0, le=3600, description="Longest delay, in seconds, between retries of a batch."
    )
    kafka_config: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="Extra librdkafka properties for every client (security, ...)."
    )
    kafka_consumer_config: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="Extra librdkafka properties for the consumer only."
    )
    kafka_producer_config: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="Extra librdkafka properties for the output producer only."
    )

    @field_validator("default_contract", mode="before")
    @classmethod
    def _contract_ref_or_none(cls, value: object) -> object:
        """An empty value means none; anything else must be NAME@VERSION (a typo is an error, not a 404)."""
        if value == "":
            return None
        if isinstance(value, str):
            parse_ref(value)  # raises ValueError, reported as an invalid setting
        return value

    @property
    def store_url_redacted(self) -> str:
        """The store URL without its password, for logs."""
        return redact(self.store_url)

    @property
    def limits(self) -> Limits:
        """The per-event limits the validator enforces."""
        return Limits(max_bytes=self.max_event_bytes, max_depth=self.max_depth)
