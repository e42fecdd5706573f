"""Advisories: what the optional advisory AI said about a failure class or a failure, and its queue.

An advisory is an annotation, stored apart from the failures it is about (a failure record is never
modified), and it decides nothing. Each target — a failure class (the default scope) or one failure (on
request) — has at most one job in the store's durable queue:

    queued --lease--> leased --answer--> done      (an advisory with status ok)
       ^                 |
       +--retry(backoff)-+--max attempts--> failed (an advisory with status error)

A lease names its holder and expires, so two advisor processes never work on one job at once, and a job
whose holder died is taken again once its lease has run out. Times are UTC.
"""

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

TargetKind = Literal["class", "failure"]
"""What an advisory is about: a failure class (by ``class_id``) or one failure (by ``failure_id``)."""
JobState = Literal["queued", "leased", "done", "failed"]
JOB_STATES: tuple[JobState, ...] = ("queued", "leased", "done", "failed")
AdvisoryStatus = Literal["ok", "error"]


class AdvisoryTarget(BaseModel):
    """One thing to advise on."""

    model_config = ConfigDict(frozen=True)

    kind: TargetKind = Field(description="`class` (a failure class) or `failure` (one failure).")
    id: str = Field(description="The class id (`cls_…`) or the failure id.", min_length=1)


class AdvisoryJob(BaseModel):
    """A target's place in the durable queue."""

    model_config = ConfigDict(frozen=True)

    target: AdvisoryTarget
    state: JobState = Field(description="queued, leased (being worked on), done or failed.")
    attempts: int = Field(default=0, ge=0, description="Calls made so far.")
    next_attempt_at: datetime = Field(description="Not leased before this instant (backoff).")
    lease_owner: str | None = Field(default=None, description="Who holds the lease, while leased.")
    lease_until: datetime | None = Field(default=None, description="When the lease runs out.")
    last_error: str | None = Field(default=None, description="Why the last attempt failed.")
    created_at: datetime = Field(description="When the job was enqueued.")


class Advice(BaseModel):
    """The answer asked of the model (its JSON Schema is the ``format`` sent), validated before storing."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    summary: str = Field(description="What goes wrong, in one or two sentences.", max_length=2000)
    probable_cause: str = Field(
        description="The most likely reason the producer sends this.", max_length=2000
    )
    producer_fix: str = Field(description="What the producer should change.", max_length=2000)
    contract_change: str = Field(
        description="A contract change to consider, or `none` when the contract is right.", max_length=2000
    )
    confidence: float = Field(ge=0, le=1, description="How sure the model is, 0 to 1.")


class Advisory(BaseModel):
    """One stored advisory: the validated answer, or why there is none. Advisory only: it decides nothing."""

    model_config = ConfigDict(frozen=True)

    target: AdvisoryTarget
    status: AdvisoryStatus = Field(description="`ok` with an answer, or `error` with why there is none.")
    advice: Advice | None = Field(default=None, description="The validated answer (status ok).")
    error: str | None = Field(default=None, description="Why there is no answer (status error).")
    model: str = Field(description="The model asked.")
    prompt_version: str = Field(description="The version of the prompt sent.")
    sent_sha256: str = Field(description="SHA-256 of exactly what was sent (model, messages, format).")
    attempts: int = Field(ge=0, description="Calls made for it (0: its target was gone).")
    created_at: datetime


class AdvisoryList(BaseModel):
    """A target's advisories, newest first, and its job in the queue (null: never enqueued)."""

    target: AdvisoryTarget
    job: AdvisoryJob | None
    items: list[Advisory]


def backoff(attempts: int, base: float, cap: float = 3600.0) -> timedelta:
    """How long to wait after ``attempts`` failed calls: ``base`` doubled each time, at most ``cap``."""
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))
