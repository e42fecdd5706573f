"""How a contract version is shown, by the CLI (``contracts list|show --json``) and the API
(``GET /v1/contracts[/{name}/{version}]``) alike: one shape, built in one place."""

from typing import Any

from pydantic import BaseModel, Field

from sigma_aetl.contracts.lock import ReleaseState
from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core.contract import Contract
from sigma_aetl.core.rules import Op, Rule


class RuleSummary(BaseModel):
    """One business rule, with its one-line expression."""

    name: str = Field(examples=["max_weight"])
    field: str = Field(description="Dotted path of the field it checks.", examples=["weight_kg"])
    op: Op = Field(examples=["le"])
    value: Any = Field(default=None, description="The constant it compares with, if any.")
    other_field: str | None = Field(default=None, description="The field it compares with, if any.")
    message: str = Field(description="Why the rule exists, shown on violation.")
    expression: str = Field(description="The rule as one line.", examples=["weight_kg <= 1000"])

    @classmethod
    def of(cls, rule: Rule) -> "RuleSummary":
        """Summarise ``rule``."""
        return cls(**rule.model_dump(mode="json"), expression=rule.describe())


class ContractSummary(BaseModel):
    """A contract version as listed."""

    ref: str = Field(examples=["shipment@1"])
    name: str
    version: int
    state: ReleaseState = Field(
        description="`released` (immutable, in the lock file), `draft` (may still change) or `modified` "
        "(released, then edited: the gateway refuses to start, so only the CLI can show it).",
        examples=["released"],
    )
    backend: str = Field(description="`pydantic` or `jsonschema`.", examples=["pydantic"])
    description: str
    identity: list[str] = Field(description="The fields whose values name a record; empty: the whole record.")
    rules: list[RuleSummary] = Field(description="The business rules, in the order they are checked.")
    allow_extra: bool = Field(description="Whether unknown fields are accepted.")
    fingerprint: str = Field(description="SHA-256 of the canonical definition; every record names it.")
    source: str = Field(description="The contract file, relative to the contracts directory.")

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
            rules=[RuleSummary.of(rule) for rule in contract.rules],
            allow_extra=contract.allow_extra,
            fingerprint=contract.fingerprint,
            source=contract.source,
        )


class ContractDetail(ContractSummary):
    """A contract version with its JSON Schema."""

    json_schema: dict[str, Any]

    @classmethod
    def of(cls, contract: Contract, state: ReleaseState) -> "ContractDetail":
        """``contract`` in full."""
        return cls(**ContractSummary.of(contract, state).model_dump(), json_schema=contract.json_schema)


def summaries(registry: Registry) -> list[ContractSummary]:
    """Every version in ``registry``, by name then version."""
    return [ContractSummary.of(contract, registry.state(contract)) for contract in registry.all()]
