"""Settings, read once at the edge (environment variables prefixed ``SIGMA_AETL_``) and passed in, frozen."""

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from sigma_aetl.core.jsonparse import Limits
from sigma_aetl.redact import redact


class Settings(BaseSettings):
    """Everything the gateway can be told. Each field is also an env var: ``SIGMA_AETL_STORE_URL`` etc."""

    model_config = SettingsConfigDict(env_prefix="SIGMA_AETL_", frozen=True, extra="forbid")

    store_url: str = Field(
        default="sqlite:///data/sigma-aetl.db",
        description="Where records live: sqlite:///relative.db, sqlite:////absolute.db, mongodb://host/db.",
    )
    contracts_dir: Path = Field(default=Path("contracts"), description="The contracts directory.")
    host: str = Field(default="127.0.0.1", description="HTTP listen address.")
    port: int = Field(default=8000, ge=0, le=65535, description="HTTP listen port.")
    default_contract: str = Field(
        default="shipment@1", description="The contract `POST /api/validate` checks against."
    )
    max_event_bytes: int = Field(default=1_048_576, ge=1, description="Largest single event, in bytes.")
    max_request_bytes: int = Field(
        default=16_777_216, ge=1, description="Largest HTTP request body; larger ones are refused with 413."
    )
    max_depth: int = Field(default=64, ge=1, le=200, description="Deepest JSON nesting accepted.")
    batch_size: int = Field(default=1000, ge=1, le=100_000, description="Events per store transaction.")
    log_level: Literal["debug", "info", "warning", "error"] = Field(default="info", description="Log level.")

    @property
    def store_url_redacted(self) -> str:
        """The store URL without its password, for logs."""
        return redact(self.store_url)

    @property
    def limits(self) -> Limits:
        """The per-event limits the validator enforces."""
        return Limits(max_bytes=self.max_event_bytes, max_depth=self.max_depth)
