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
    # HTTP request bodies (identity): how long one may take, and how long one over the limit is read on.
    body_timeout: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        description="Seconds an HTTP request body may take to arrive, from the request's start to its last "
        "byte (the default lets a 16 MiB body arrive at 2.2 Mbit/s); a body still unfinished then is cut "
        "off with 408 and nothing of it is stored.",
    )
    oversize_drain_timeout: float = Field(
        default=10.0,
        ge=0,
        le=3600,
        description="Seconds a body over `max_request_bytes` is read on (and discarded) to record its whole "
        "size and SHA-256; one still arriving then is recorded with `size_unknown`.",
    )
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

    # API keys and open mode (``http/auth.py``); see docs/security.md.
    auth_cache_seconds: float = Field(
        default=1.0,
        ge=0,
        le=60,
        description="How long `serve` trusts what it last read of the API keys: a key created, revoked or "
        "first used takes effect within this many seconds, in every process on the store; 0 reads the "
        "store on every request.",
    )
    allow_open: bool = Field(
        default=False,
        description="`serve` starts on a non-loopback address although no API key exists, open to anyone "
        "who reaches it. Without it, serve refuses to start there until a key exists (`sigma-aetl keys "
        "create`).",
    )

    # Bounded resources: request heads, what is recorded of them, read pages, connections (docs/failures.md).
    max_header_bytes: int = Field(
        default=65_536,
        ge=1024,
        le=16_777_216,
        description="Largest HTTP request head under `serve`: the request target plus every header name and "
        "value, in bytes. A larger head is answered 431 and its connection closed, read no further.",
    )
    max_recorded_header_bytes: int = Field(
        default=1024,
        ge=16,
        le=1_048_576,
        description="Most bytes of one header value an event records; a longer value keeps its first bytes "
        "and its real length is recorded in `source.headers_truncated`.",
    )
    max_page_bytes: int = Field(
        default=1_048_576,
        ge=65_536,
        le=268_435_456,
        description="Largest page a list endpoint answers, in bytes of its items (at least one item is "
        "always returned); a page cut short says where to continue.",
    )
    max_inline_raw_bytes: int = Field(
        default=65_536,
        ge=0,
        le=16_777_216,
        description="Largest raw payload a list endpoint inlines; a larger one is listed without its bytes, "
        "which `GET /v1/failures/{id}/raw` serves whole.",
    )
    max_connections: int | None = Field(
        default=1000,
        ge=1,
        le=1_000_000,
        description="Most concurrent connections (and requests) one `serve` process handles; beyond it a "
        "request is answered 503 problem details and its connection closed. Unset: no cap.",
    )

    # Request hygiene (the hygiene concern): the Host names `serve` answers; see docs/threat-model.md.
    allowed_hosts: str | None = Field(
        default=None,
        description="Host names `serve` answers, comma-separated (`*.example.com` for every subdomain; any "
        "port), or `*` for any; another Host is a 421 problem (DNS rebinding). Unset: localhost, 127.0.0.1 "
        "and [::1] on a loopback `host`; on any other `host`, serve refuses to start until names are set.",
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

    # Kafka group membership (deploy: fast recovery after a crash or a rolling restart); see docs/kafka.md.
    kafka_group_instance_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=249,
        description="Static group membership: this worker's stable identity in the consumer group "
        "(librdkafka group.instance.id), e.g. the pod name of a StatefulSet. A worker restarted with the "
        "same id takes its partitions back without a rebalance; unset, every start is a new member.",
    )
    kafka_assignment_strategy: Literal["cooperative-sticky", "range", "roundrobin"] = Field(
        default="cooperative-sticky",
        description="How the group spreads partitions (librdkafka partition.assignment.strategy): "
        "cooperative-sticky moves only the partitions that must move; range and roundrobin revoke every "
        "partition on each rebalance. Every member of a group must use the same one.",
    )

    # Advisory AI (docs/diagnostics.md, "Advisory AI"): off unless advisor_url is set; it never decides.
    advisor_url: str | None = Field(
        default=None,
        description="The Ollama server the advisor asks (http://127.0.0.1:11434); unset or empty: no "
        "advisor. With it set, `serve` runs the advisor in the background; `advisor run` always can.",
    )
    advisor_model: str = Field(default="qwen2.5:7b", min_length=1, description="The Ollama model asked.")
    advisor_timeout: float = Field(default=60.0, gt=0, le=3600, description="Seconds one call may take.")
    advisor_concurrency: int = Field(default=2, ge=1, le=64, description="Calls in flight at most.")
    advisor_max_attempts: int = Field(
        default=3, ge=1, le=20, description="Calls per target before an advisory error is stored instead."
    )
    advisor_backoff: float = Field(
        default=5.0,
        gt=0,
        le=3600,
        description="Seconds before the first retry, doubled before each next one.",
    )
    advisor_breaker_threshold: int = Field(
        default=5, ge=1, le=1000, description="Consecutive failed calls that open the circuit breaker."
    )
    advisor_breaker_cooldown: float = Field(
        default=60.0, gt=0, le=86400, description="Seconds the open breaker waits before trying one call."
    )
    advisor_scope: Literal["class", "failure"] = Field(
        default="class",
        description="What the advisor's sync step enqueues: every failure class (one advisory each), or "
        "every failure. `sigma-aetl advisor request ID` enqueues one failure either way.",
    )
    advisor_max_value_chars: int = Field(
        default=64,
        ge=0,
        le=10_000,
        description="Longest text of a payload value sent to the model; longer ones are cut. Fields the "
        "contract marks sensitive (x-sensitive) are never sent.",
    )
    advisor_poll_interval: float = Field(
        default=5.0, gt=0, le=3600, description="Seconds an idle advisor waits before looking for work again."
    )

    @field_validator("advisor_url", mode="before")
    @classmethod
    def _advisor_url(cls, value: object) -> object:
        """Empty means no advisor; anything else must be an http(s) URL (a typo is an error, not silence)."""
        if value == "":
            return None
        if isinstance(value, str) and not value.startswith(("http://", "https://")):
            raise ValueError("the advisor URL is an Ollama server's http:// or https:// URL")
        return value

    # Metrics and log lines (``ingest/metrics.py``, ``logs.py``); see docs/observability.md.
    metrics_enabled: bool = Field(
        default=True,
        description="Count decisions, latencies and queue depths, served as Prometheus text on GET /metrics "
        "(the gateway) and on the worker's health port; false: nothing is measured and /metrics answers 404.",
    )
    log_format: Literal["console", "json"] = Field(
        default="console",
        description="Log lines on stderr, uvicorn's included: `console` (key=value pairs, one event per "
        "line) or `json` (one JSON object per line, for a log collector).",
    )

    # The flood guard (``core/flood.py``, ``ingest/flood.py``); see docs/observability.md, "Flood guard".
    flood_invalid_ratio: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="Alert when the failed share of a contract's events (per Kafka partition for the "
        "worker) over the last `flood_window_seconds` reaches this ratio (0.5: half of them); unset: off.",
    )
    flood_window_seconds: int = Field(
        default=60,
        ge=1,
        le=3600,
        description="Seconds the invalid ratio is measured over (a sliding window).",
    )
    flood_min_events: int = Field(
        default=100,
        ge=1,
        le=1_000_000,
        description="Events the window must hold before the invalid ratio may alert.",
    )
    flood_consecutive_failures: int | None = Field(
        default=None,
        ge=1,
        le=1_000_000,
        description="Alert when this many events in a row of a contract (per Kafka partition for the worker) "
        "fail; unset: off.",
    )
    flood_max_keys: int = Field(
        default=10_000,
        ge=1,
        le=1_000_000,
        description="Contracts (and partitions) the guard keeps at most; the least recently seen is "
        "forgotten first.",
    )
    flood_webhook_url: str | None = Field(
        default=None,
        description="POST each alert's JSON to this http(s) URL, from a background queue (ingestion never "
        "waits for it); unset or empty: no webhook.",
    )
    flood_webhook_timeout: float = Field(
        default=5.0, gt=0, le=300, description="Seconds one webhook POST may take."
    )
    flood_webhook_attempts: int = Field(
        default=3, ge=1, le=20, description="POSTs per alert before it is counted as a webhook failure."
    )
    flood_webhook_backoff: float = Field(
        default=1.0,
        ge=0,
        le=600,
        description="Seconds before the second POST of an alert, doubled before each next one.",
    )
    flood_pause: bool = Field(
        default=False,
        description="The worker pauses consumption of a partition the guard alerts on (the events already "
        "consumed are still stored) until an operator resumes it (`sigma-aetl worker resume`).",
    )

    @field_validator("flood_webhook_url", mode="before")
    @classmethod
    def _webhook_url(cls, value: object) -> object:
        """Empty means no webhook; anything else must be an http(s) URL."""
        if value == "":
            return None
        if isinstance(value, str) and not value.startswith(("http://", "https://")):
            raise ValueError("the flood webhook is an http:// or https:// URL")
        return value

    @field_validator("kafka_group_instance_id", mode="before")
    @classmethod
    def _instance_id_or_none(cls, value: object) -> object:
        """An empty value (a template's unset variable) means no static membership."""
        return None if value == "" else value

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
