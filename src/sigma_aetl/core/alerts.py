"""Alerts the flood guard raises (docs/observability.md, "Flood guard"): what crossed which threshold.

An alert is stored (every gateway and worker sharing the store sees it, the dashboard lists it), logged,
counted in a metric and, when configured, posted to a webhook. It never changes a decision: a flood of
invalid events is still judged and stored event by event; for the Kafka worker it may pause the partition
(pause, never skip) until an operator resumes it.
"""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

AlertKind = Literal["invalid_ratio", "consecutive_failures"]
AlertAction = Literal["alerted", "paused"]


class Alert(BaseModel):
    """One threshold crossed by one contract (and, for the worker, one Kafka partition)."""

    model_config = ConfigDict(frozen=True)

    alert_id: str = Field(description="`alr_` and 32 hex characters, unique.")
    kind: AlertKind
    contract: str = Field(description="The contract as addressed (`name@version`).")
    partition: str | None = Field(default=None, description="`topic:partition` for the worker; else null.")
    source: Literal["http", "kafka", "file"]
    value: float = Field(description="The measured value: the invalid ratio, or the failures in a row.")
    threshold: float
    window_events: int = Field(description="Events the value was measured over.")
    action: AlertAction
    raised_at: datetime
    process: str = Field(description="Which process raised it: host and pid.")
