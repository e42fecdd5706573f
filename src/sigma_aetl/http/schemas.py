"""Response shapes of the HTTP API, for the OpenAPI document and for clients."""

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from sigma_aetl.core.decision import FieldError
from sigma_aetl.core.value import value
from sigma_aetl.ingest.outcome import Outcome, Tally


@dataclass(frozen=True, slots=True)
class BatchSummary:
    """Counts over one batch."""

    events: Annotated[int, Field(description="Events in the batch.")]
    accepted: Annotated[int, Field(description="Newly stored accepted records.")]
    failed: Annotated[int, Field(description="Newly stored failure records.")]
    duplicates: Annotated[
        int, Field(description="Events already stored before; nothing new was written for them.")
    ]

    @classmethod
    def of(cls, outcomes: list[Outcome]) -> "BatchSummary":
        """Count ``outcomes``."""
        tally = Tally()
        tally.add(outcomes)
        return cls(tally.events, tally.accepted, tally.failed, tally.duplicates)


@dataclass(frozen=True, slots=True)
class BatchResult:
    """One outcome per event, in the order received, and the counts."""

    results: list[Outcome]
    summary: BatchSummary


@value(kw_only=True)  # documents the answer only, so it is the same kind of type as FieldError
class ValidateError(FieldError):
    """One error of ``POST /api/validate``: ours, with the original validator's keys as well."""

    msg: Annotated[str, Field(description="The original's `msg`: the same text as `message`.")]
    input: Annotated[
        Any,
        Field(
            default=None,
            description="The original's `input`: the value at `loc` as received, the enclosing object for a "
            "missing field; absent when there is none.",
        ),
    ] = None


class ValidateResult(BaseModel):
    """The original SIGMA-AETL validator's answer (``POST /api/validate``)."""

    status: Literal["PASSED", "FAILED"]
    clean_data: dict[str, Any] | None = Field(default=None, description="PASSED: the canonical record.")
    reason: Literal["Schema validation failed", "Business rule violation"] | None = Field(
        default=None, description="FAILED: which stage rejected it."
    )
    root_cause: str | None = Field(default=None, description="FAILED: the primary root cause.")
    errors: list[ValidateError] | None = Field(default=None, description="FAILED: every error.")
    received_payload: Any = Field(
        default=None, description="FAILED: the payload as parsed, or its text when it is not JSON."
    )
    ignored_fields: list[str] | None = Field(
        default=None,
        description="With a contract whose `unknown_fields` is `ignore` (the default `shipment_compat@1`): "
        "the undeclared top-level fields left out of `clean_data`, sorted; absent when there were none.",
    )
