"""The validator's answer: a decision, and the errors that explain a failure.

Both are value types (:mod:`sigma_aetl.core.value`) rather than Pydantic models: one is built per event
on the hot path, where a model's validation costs more than the check it reports. Pydantic still documents
them (the ``Field`` annotations feed the OpenAPI document) and reads them back
(:mod:`sigma_aetl.core.serial`).
"""

from typing import Annotated, Any, Literal

from pydantic import Field

from sigma_aetl.core.taxonomy import RootCause, Stage
from sigma_aetl.core.value import value

Status = Literal["PASSED", "FAILED"]
LocPart = str | int


@value(kw_only=True)
class FieldError:
    """One thing wrong with an event, with where, why and what was expected."""

    path: Annotated[
        str,
        Field(
            description="Field path in the payload: `weight_kg`, `items[2].sku`; empty for the whole "
            "payload.",
            examples=["weight_kg"],
        ),
    ]
    loc: Annotated[
        tuple[LocPart, ...],
        Field(
            description="The same location as a list of keys and indexes (Pydantic's `loc`).",
            examples=[["weight_kg"]],
        ),
    ]
    type: Annotated[
        str,
        Field(
            description="Machine-readable error type: `missing`, `int_type`, `greater_than`, "
            "`business_rule`...",
            examples=["greater_than"],
        ),
    ]
    root_cause: Annotated[RootCause, Field(description="The taxonomy category of this error.")]
    stage: Annotated[Stage, Field(description="The pipeline stage that found it.")]
    message: Annotated[str, Field(description="Short message.", examples=["Input should be greater than 0"])]
    constraint: Annotated[
        str | None, Field(description="The violated constraint, when there is one.", examples=["> 0"])
    ] = None
    rule: Annotated[str | None, Field(description="The business rule's name, for rule errors.")] = None
    explanation: Annotated[
        str,
        Field(
            description="A deterministic sentence: what was expected and what arrived.",
            examples=["weight_kg: expected a number > 0, received -5."],
        ),
    ]


@value
class Decision:
    """The deterministic outcome of validating one event against one contract version."""

    status: Annotated[Status, Field(description="`PASSED` or `FAILED`.")]
    contract: Annotated[str | None, Field(description="Contract name, when the event was routed.")] = None
    version: Annotated[int | None, Field(description="Contract version, when the event was routed.")] = None
    fingerprint: Annotated[str | None, Field(description="Fingerprint of the contract version used.")] = None
    data: Annotated[
        dict[str, Any] | None,
        Field(description="PASSED only: the canonical record, values exactly as sent, keys sorted."),
    ] = None
    root_cause: Annotated[RootCause | None, Field(description="FAILED only: the primary root cause.")] = None
    stage: Annotated[Stage | None, Field(description="FAILED only: the stage of the primary cause.")] = None
    errors: Annotated[tuple[FieldError, ...], Field(description="FAILED only: every error found.")] = ()

    @property
    def passed(self) -> bool:
        """Whether the event was accepted."""
        return self.status == "PASSED"
