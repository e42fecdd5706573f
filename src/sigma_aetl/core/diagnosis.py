"""A deterministic diagnosis of a failure or a failure class: its value type, and the words it is told in.

A diagnosis is built only from the contracts and the stored data, and reads the same on every run:

- **errors**: each error's explanation (from the record) and a remediation hint (:mod:`.hints`);
- **would pass as**: the raw payloads re-judged, read-only, against other contract versions, naming those
  they pass (the judging itself is the service layer's, ``ingest/diagnosis.py``);
- **near misses**: unexpected fields that are probably missing ones renamed (:mod:`.nearmiss`);
- **drift** (a class only): when it first appeared, and per producer whether it had records of that
  contract accepted before then ("a producer that changed") or not ("a new producer").

Nothing here reads a clock, a store or a setting; every list is in a stated order.
"""

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from sigma_aetl.core.classes import normalise_path
from sigma_aetl.core.decision import FieldError
from sigma_aetl.core.hints import hint
from sigma_aetl.core.nearmiss import NearMiss
from sigma_aetl.core.taxonomy import RootCause

Verdict = Literal["changed", "new", "unknown"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class ErrorWords(_Frozen):
    """One error in words: where, what kind, why, and what to change."""

    path: str = Field(description="Field path (a class's: indices as `[*]`); empty for the whole payload.")
    type: str = Field(description="The error type, as the backend reports it.", examples=["missing"])
    root_cause: RootCause
    explanation: str = Field(description="What was expected and what arrived (a sample's, for a class).")
    hint: str = Field(description="What to change: the remediation hint for this error type.")


class NotJudged(_Frozen):
    """A stored payload that could not be judged again, and why."""

    failure_id: str
    reason: str = Field(examples=["truncated: only the first 1048576 of 2000000 bytes were kept"])


class PassesAs(_Frozen):
    """A contract version some of the re-judged payloads pass."""

    contract: str = Field(description="The version, as `name@version`.", examples=["shipment@2"])
    passed: int = Field(description="Re-judged payloads that pass it.", ge=1)
    judged: int = Field(description="Payloads re-judged.", ge=1)


class WouldPassAs(_Frozen):
    """The failure's raw payloads (a class: its samples') judged again against other versions."""

    tried: list[str] = Field(description="The versions judged against, in the registry's order.")
    judged: int = Field(description="Payloads judged again.", ge=0)
    not_judged: list[NotJudged] = Field(description="Payloads that cannot be judged again, and why.")
    passes: list[PassesAs] = Field(description="The versions tried that some of them pass, in order.")
    words: str = Field(description="The finding in one sentence.")


class ProducerDrift(_Frozen):
    """One producer of a class: had it records of the contract accepted before the class appeared?"""

    producer: str = Field(description="The producer label (`key:…`, `client:…`, `topic:…`, `file:…`).")
    failures: int = Field(description="Its failures in the class.", ge=0)
    accepted: int = Field(description="Its accepted records of the contract, every version.", ge=0)
    first_accepted: datetime | None = Field(description="When the first of them was received.")
    versions: list[int] = Field(description="The versions it had records of accepted, ascending.")
    verdict: Verdict = Field(
        description="`changed`: it had records accepted before the class first appeared; `new`: it had "
        "none; `unknown`: the failures name no contract to look up."
    )
    words: str


class Drift(_Frozen):
    """When a class appeared, and who sends it."""

    first_seen: datetime
    last_seen: datetime
    first_failure_id: str = Field(description="The class's first failure: where it started.")
    producers: list[ProducerDrift] = Field(description="Each producer of the class, by label.")
    words: str


class Diagnosis(_Frozen):
    """What is wrong, what it would pass as, near misses and drift; the same on every run."""

    subject: Literal["failure", "class"]
    id: str = Field(description="The failure's id, or the class's.")
    class_id: str = Field(description="The class the failure belongs to (a class: its own id).")
    contract_ref: str = Field(description="The contract as the events addressed it.")
    root_cause: RootCause
    summary: str = Field(description="The diagnosis in a few sentences.")
    errors: list[ErrorWords]
    would_pass_as: WouldPassAs
    near_misses: list[NearMiss]
    drift: Drift | None = Field(description="A class only: when it appeared, and who sends it.")
    samples: list[str] = Field(description="The failures judged again (a failure: itself).")


class Activity(Protocol):
    """What a producer had accepted under one contract version (``stores.base.ProducerActivity``)."""

    @property
    def version(self) -> int: ...  # noqa: D102
    @property
    def accepted(self) -> int: ...  # noqa: D102
    @property
    def first_accepted(self) -> datetime: ...  # noqa: D102


def failure_errors(errors: Iterable[FieldError]) -> list[ErrorWords]:
    """Each of a failure's errors in words, in the record's order."""
    return [_words(error, error.path) for error in errors]


def class_errors(
    signature: Sequence[tuple[str, str]], sample: Sequence[FieldError], cause: RootCause
) -> list[ErrorWords]:
    """A class's errors in words, in its signature's order, each explained by the sample's first error
    with that (normalised path, type); with no stored sample, by the signature alone (``cause``: the
    class's root cause)."""
    first: dict[tuple[str, str], FieldError] = {}
    for error in sample:
        first.setdefault((normalise_path(error.path), error.type), error)
    return [
        _words(first[pair], pair[0]) if pair in first else _unexplained(pair, cause) for pair in signature
    ]


def _unexplained(pair: tuple[str, str], cause: RootCause) -> ErrorWords:
    path, kind = pair
    return ErrorWords(
        path=path,
        type=kind,
        root_cause=cause,
        explanation=f"{path or 'payload'}: {kind} (no stored sample is left to explain it).",
        hint=hint(kind, cause),
    )


def _words(error: FieldError, path: str) -> ErrorWords:
    return ErrorWords(
        path=path,
        type=error.type,
        root_cause=error.root_cause,
        explanation=error.explanation,
        hint=hint(error.type, error.root_cause),
    )


def would_pass_as(
    sent_to: str,
    tried: Sequence[str],
    passed: Mapping[str, int],
    judged: int,
    not_judged: Sequence[NotJudged],
) -> WouldPassAs:
    """The finding of judging ``judged`` payloads sent to ``sent_to`` against ``tried``; ``passed``
    counts, per version tried, the payloads that pass it."""
    passes = [PassesAs(contract=ref, passed=passed[ref], judged=judged) for ref in tried if passed.get(ref)]
    return WouldPassAs(
        tried=list(tried),
        judged=judged,
        not_judged=list(not_judged),
        passes=passes,
        words=_pass_words(sent_to, tried, passes, judged, not_judged),
    )


def _pass_words(
    sent_to: str,
    tried: Sequence[str],
    passes: Sequence[PassesAs],
    judged: int,
    not_judged: Sequence[NotJudged],
) -> str:
    if judged == 0:
        reasons = "; ".join(sorted({item.reason for item in not_judged})) or "no payload"
        return f"Cannot be judged again: {reasons}."
    if not tried:
        return "No other version of this contract is loaded to judge it against (all contracts: every one)."
    if not passes:
        return f"It passes none of the other versions tried ({', '.join(tried)})."
    best = passes[0]
    if judged == 1:
        lead = f"It passes {_listed([p.contract for p in passes])}"
    elif best.passed == judged:
        lead = f"All {judged} samples pass {best.contract}"
    else:
        lead = f"{best.passed} of {judged} samples pass {best.contract}"
    return f"{lead}: the producer is sending {best.contract} payloads to {sent_to}."


def _listed(refs: Sequence[str]) -> str:
    return refs[0] if len(refs) == 1 else ", ".join(refs[:-1]) + f" and {refs[-1]}"


def producer_drift(
    producer: str, failures: int, contract: str | None, first_seen: datetime, history: Sequence[Activity]
) -> ProducerDrift:
    """One producer of a class that first appeared at ``first_seen``, from what it had accepted under each
    version of ``contract`` (None: the failures name no contract)."""
    accepted = sum(item.accepted for item in history)
    first = min((item.first_accepted for item in history), default=None)
    verdict: Verdict = "unknown" if contract is None else "new"
    if first is not None and first < first_seen:
        verdict = "changed"
    return ProducerDrift(
        producer=producer,
        failures=failures,
        accepted=accepted,
        first_accepted=first,
        versions=sorted({item.version for item in history}),
        verdict=verdict,
        words=_drift_words(producer, contract, verdict, accepted=accepted, first=first, seen=first_seen),
    )


def _drift_words(
    producer: str,
    contract: str | None,
    verdict: Verdict,
    *,
    accepted: int,
    first: datetime | None,
    seen: datetime,
) -> str:
    if verdict == "unknown":
        return f"{producer}: the failures name no contract, so there is no history to compare."
    if verdict == "changed":
        assert first is not None
        return (
            f"{producer} had {contract} records accepted since {_when(first)} ({accepted} in all), "
            f"before this class first appeared at {_when(seen)}: a producer that changed."
        )
    return f"{producer} had no {contract} record accepted before {_when(seen)}: a new producer."


def _when(moment: datetime) -> str:
    """An instant in words, to the second (the JSON members keep it whole): ``2026-03-01T09:00:00+00:00``."""
    return moment.isoformat(timespec="seconds")


def drift(
    first_seen: datetime, last_seen: datetime, first_failure_id: str, producers: Sequence[ProducerDrift]
) -> Drift:
    """A class's drift: when it appeared, and its producers (sorted by label)."""
    ordered = sorted(producers, key=lambda item: item.producer)
    changed = sum(item.verdict == "changed" for item in ordered)
    new = sum(item.verdict == "new" for item in ordered)
    words = (
        f"First seen {_when(first_seen)} (failure {first_failure_id}), last seen {_when(last_seen)}; "
        f"{changed} producer(s) that changed, {new} new."
    )
    return Drift(
        first_seen=first_seen,
        last_seen=last_seen,
        first_failure_id=first_failure_id,
        producers=ordered,
        words=words,
    )


def summary(
    what: str,
    errors: Sequence[ErrorWords],
    passing: WouldPassAs,
    misses: Sequence[NearMiss],
    found: Drift | None,
) -> str:
    """The diagnosis in a few sentences: what failed, its first error, would-pass-as, near misses, drift."""
    parts = [f"{what}: {len(errors)} error(s)" + (f", first {errors[0].explanation}" if errors else ".")]
    parts.append(passing.words)
    if misses:
        renamed = ", ".join(f"{miss.unexpected} for {miss.missing}" for miss in misses)
        parts.append(f"Probably renamed: {renamed}.")
    if found is not None:
        parts.append(found.words)
    return " ".join(parts)
