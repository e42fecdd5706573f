"""Response shapes of the HTTP API, for the OpenAPI document and for clients."""

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from sigma_aetl.contracts.lock import ReleaseState
from sigma_aetl.core.contract import Contract
from sigma_aetl.core.decision import FieldError
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


class ValidateResult(BaseModel):
    """The original SIGMA-AETL validator's answer (``POST /api/validate``)."""

    status: Literal["PASSED", "FAILED"]
    clean_data: dict[str, Any] | None = Field(default=None, description="PASSED: the canonical record.")
    reason: Literal["Schema validation failed", "Business rule violation"] | None = Field(
        default=None, description="FAILED: which stage rejected it."
    )
    root_cause: str | None = Field(default=None, description="FAILED: the primary root cause.")
    errors: list[FieldError] | None = Field(default=None, description="FAILED: every error.")
    received_payload: Any = Field(
        default=None, description="FAILED: the payload as parsed, or its text when it is not JSON."
    )


class ContractSummary(BaseModel):
    """A contract version as listed."""

    ref: str = Field(examples=["shipment@1"])
    name: str
    version: int
    state: ReleaseState = Field(
        description="`released` (immutable, in the lock file) or `draft` (may still change). The gateway "
        "never starts with a `modified` release, so the API does not show that state.",
        examples=["released"],
    )
    backend: str = Field(description="`pydantic` or `jsonschema`.", examples=["pydantic"])
    description: str
    identity: list[str]
    rules: list[str] = Field(description="Each business rule as an expression.")
    allow_extra: bool
    fingerprint: str = Field(description="SHA-256 of the canonical definition; every record names it.")
    source: str

    @classmethod
    def of(cls, contract: Contract, state: ReleaseState) -> "ContractSummary":
        """Summarise ``contract``."""
        return cls(
            ref=contract.ref,
            name=contract.name,
            version=contract.version,
            state=state,
            backend=contract.backend,
            description=contract.description,
            identity=list(contract.identity),
            rules=[f"{rule.name}: {rule.describe()}" for rule in contract.rules],
            allow_extra=contract.allow_extra,
            fingerprint=contract.fingerprint,
            source=contract.source,
        )


class ContractDetail(ContractSummary):
    """A contract version with its JSON Schema."""

    json_schema: dict[str, Any]
