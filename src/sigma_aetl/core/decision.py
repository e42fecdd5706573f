"""The validator's answer: a decision, and the errors that explain a failure."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sigma_aetl.core.taxonomy import RootCause, Stage

Status = Literal["PASSED", "FAILED"]
LocPart = str | int


class FieldError(BaseModel):
    """One thing wrong with an event, with where, why and what was expected."""

    model_config = ConfigDict(frozen=True)

    path: str = Field(
        description="Field path in the payload: `weight_kg`, `items[2].sku`; empty for the whole payload.",
        examples=["weight_kg"],
    )
    loc: tuple[LocPart, ...] = Field(
        description="The same location as a list of keys and indexes (Pydantic's `loc`).",
        examples=[["weight_kg"]],
    )
    type: str = Field(
        description="Machine-readable error type: `missing`, `int_type`, `greater_than`, `business_rule`...",
        examples=["greater_than"],
    )
    root_cause: RootCause = Field(description="The taxonomy category of this error.")
    stage: Stage = Field(description="The pipeline stage that found it.")
    message: str = Field(description="Short message.", examples=["Input should be greater than 0"])
    constraint: str | None = Field(
        default=None, description="The violated constraint, when there is one.", examples=["> 0"]
    )
    rule: str | None = Field(default=None, description="The business rule's name, for rule errors.")
    explanation: str = Field(
        description="A deterministic sentence: what was expected and what arrived.",
        examples=["weight_kg: expected a number > 0, received -5."],
    )


class Decision(BaseModel):
    """The deterministic outcome of validating one event against one contract version."""

    model_config = ConfigDict(frozen=True)

    status: Status = Field(description="`PASSED` or `FAILED`.")
    contract: str | None = Field(default=None, description="Contract name, when the event was routed.")
    version: int | None = Field(default=None, description="Contract version, when the event was routed.")
    fingerprint: str | None = Field(default=None, description="Fingerprint of the contract version used.")
    data: dict[str, Any] | None = Field(
        default=None, description="PASSED only: the canonical record, values exactly as sent, keys sorted."
    )
    root_cause: RootCause | None = Field(default=None, description="FAILED only: the primary root cause.")
    stage: Stage | None = Field(default=None, description="FAILED only: the stage of the primary cause.")
    errors: tuple[FieldError, ...] = Field(default=(), description="FAILED only: every error found.")

    @property
    def passed(self) -> bool:
        """Whether the event was accepted."""
        return self.status == "PASSED"
