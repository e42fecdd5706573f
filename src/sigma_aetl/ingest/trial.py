"""A dry run of a candidate contract version over stored events: ``sigma-aetl contracts try``.

The raw payloads stored for an earlier version — accepted and failed alike — are validated again, exactly
as the gateway would, against the candidate. Nothing is written: the report says how many would pass or
fail, by primary root cause and by field, and names a few stored ids per cause to look at.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel, Field

from sigma_aetl.core.contract import Contract
from sigma_aetl.core.decision import Decision
from sigma_aetl.core.jsonparse import Limits
from sigma_aetl.core.records import StoredPayload
from sigma_aetl.core.validator import DEFAULT_LIMITS, validate

SAMPLES = 3


class OriginCounts(BaseModel):
    """What became of the events stored with one outcome."""

    total: int = Field(description="Stored events with this outcome.")
    would_pass: int
    would_fail: int


class TrialReport(BaseModel):
    """The dry run's findings; nothing was written."""

    candidate: str = Field(examples=["shipment@2"])
    candidate_fingerprint: str
    against: str = Field(description="Whose stored events were replayed.", examples=["shipment@1"])
    payloads: int = Field(description="Stored events validated again.")
    would_pass: int
    would_fail: int
    skipped_truncated: int = Field(description="Events stored only in part (over the request limit).")
    by_origin: dict[str, OriginCounts] = Field(
        description="`accepted` and `failed`: the events' stored outcome under the earlier version."
    )
    by_root_cause: dict[str, int] = Field(description="Would-fail events per primary root cause.")
    by_field: dict[str, dict[str, int]] = Field(
        description="Per field path, the would-fail events with an error there, per root cause."
    )
    samples: dict[str, list[str]] = Field(description="A few stored ids per primary root cause.")


@dataclass
class _Tally:
    payloads: int = 0
    truncated: int = 0
    origin: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    causes: Counter[str] = field(default_factory=Counter)
    fields: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    samples: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def add(self, payload: StoredPayload, decision: Decision) -> None:
        origin = self.origin["accepted" if payload.kind == "record" else "failed"]
        origin["total"] += 1
        origin["would_pass" if decision.passed else "would_fail"] += 1
        if decision.root_cause is None:
            return
        cause = decision.root_cause.value
        self.causes[cause] += 1
        if len(self.samples[cause]) < SAMPLES:
            self.samples[cause].append(payload.id)
        for path, error_cause in sorted(
            {(e.path or "(payload)", e.root_cause.value) for e in decision.errors}
        ):
            self.fields[path][error_cause] += 1


def trial(
    candidate: Contract,
    against: str,
    batches: Iterable[Sequence[StoredPayload]],
    limits: Limits = DEFAULT_LIMITS,
) -> TrialReport:
    """Validate every stored payload against ``candidate`` and count the outcomes; pure, writes nothing."""
    tally = _Tally()
    for batch in batches:
        for payload in batch:
            tally.payloads += 1
            if payload.raw.truncated:
                tally.truncated += 1
                continue
            tally.add(payload, validate(candidate, payload.raw.to_bytes(), limits))
    return _report(candidate, against, tally)


def _report(candidate: Contract, against: str, tally: _Tally) -> TrialReport:
    origins = {name: _origin(tally.origin[name]) for name in ("accepted", "failed")}
    failing = sum(tally.causes.values())
    return TrialReport(
        candidate=candidate.ref,
        candidate_fingerprint=candidate.fingerprint,
        against=against,
        payloads=tally.payloads,
        would_pass=tally.payloads - tally.truncated - failing,
        would_fail=failing,
        skipped_truncated=tally.truncated,
        by_origin=origins,
        by_root_cause=_by_count(tally.causes),
        by_field={path: _by_count(tally.fields[path]) for path in sorted(tally.fields)},
        samples=dict(sorted(tally.samples.items())),
    )


def _origin(counts: Counter[str]) -> OriginCounts:
    return OriginCounts(
        total=counts["total"], would_pass=counts["would_pass"], would_fail=counts["would_fail"]
    )


def _by_count(counts: Counter[str]) -> dict[str, int]:
    """Most frequent first, ties by name: the same stored events always give the same report."""
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
