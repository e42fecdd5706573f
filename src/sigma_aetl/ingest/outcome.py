"""What happened to each event (:class:`Outcome`), and counting outcomes (:class:`Tally`) for every face:
the HTTP batch summary, the ``ingest`` command's summary and the Kafka worker's run statistics."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated

from pydantic import Field

from sigma_aetl.core.decision import FieldError, Status
from sigma_aetl.core.taxonomy import RootCause, Stage
from sigma_aetl.core.value import value


@value(kw_only=True)
class Outcome:
    """What happened to one event: its decision and where it is stored."""

    status: Annotated[
        Status, Field(description="`PASSED` (stored as a record) or `FAILED` (stored as a failure).")
    ]
    contract_ref: Annotated[str, Field(description="The contract as addressed.", examples=["shipment@1"])]
    record_id: Annotated[str | None, Field(description="PASSED: the accepted record's id.")] = None
    failure_id: Annotated[str | None, Field(description="FAILED: the failure record's id.")] = None
    duplicate: Annotated[
        bool, Field(description="True when the same event was already stored; nothing new was written.")
    ]
    root_cause: RootCause | None = None
    stage: Stage | None = None
    errors: tuple[FieldError, ...] = ()


@dataclass
class Tally:
    """Counts outcomes, telling an event's first storage from a duplicate of something already stored."""

    events: int = 0
    accepted: int = 0
    """Accepted records newly stored."""
    failed: int = 0
    """Failure records newly stored."""
    accepted_duplicates: int = 0
    failure_duplicates: int = 0

    @property
    def duplicates(self) -> int:
        """Events already stored (earlier, or earlier in the same batch); nothing new was written."""
        return self.accepted_duplicates + self.failure_duplicates

    def add(self, outcomes: Iterable[Outcome]) -> None:
        """Count outcomes (a repeat within one batch is already marked duplicate)."""
        for outcome in outcomes:
            self.events += 1
            passed = outcome.status == "PASSED"
            if outcome.duplicate:
                self.accepted_duplicates += passed
                self.failure_duplicates += not passed
            else:
                self.accepted += passed
                self.failed += not passed
