"""Diagnose a stored failure, or a failure class, deterministically: ``failures explain`` and the API.

Read-only. The failure's raw bytes (a class: its sample failures') are judged again, exactly as the gateway
judges an event (:func:`~sigma_aetl.core.validator.validate`, as ``contracts try`` does in ``trial.py``),
against the other versions of the contract they were sent to — and, asked for, every loaded contract — in
the registry's order (name, then version). A payload kept truncated, not valid UTF-8 or not JSON cannot be
judged again, and the diagnosis says so. A class's drift asks the store what each of its producers had
accepted under that contract (:meth:`Store.producer_activity`). The words are the core's
(:mod:`sigma_aetl.core.diagnosis`): the same store and contracts give the same diagnosis, byte for byte.
"""

from collections import Counter
from collections.abc import Sequence

from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core import diagnosis as words
from sigma_aetl.core.classes import FailureClass, class_id_of, normalise_path
from sigma_aetl.core.contract import Contract
from sigma_aetl.core.decision import FieldError
from sigma_aetl.core.diagnosis import Diagnosis, NotJudged, WouldPassAs
from sigma_aetl.core.jsonparse import Limits, parse
from sigma_aetl.core.nearmiss import NearMiss, near_misses
from sigma_aetl.core.records import FailureRecord, RawPayload
from sigma_aetl.core.refs import parse_ref
from sigma_aetl.core.validator import DEFAULT_LIMITS, validate
from sigma_aetl.stores.base import Store

CLASS_PREFIX = "cls_"
"""What a class id starts with; anything else is taken as a failure id."""


def diagnose(
    store: Store,
    registry: Registry,
    subject: str,
    *,
    all_contracts: bool = False,
    limits: Limits = DEFAULT_LIMITS,
) -> Diagnosis | None:
    """The diagnosis of the failure (``fail_…``) or class (``cls_…``) ``subject``; None if none is stored."""
    if subject.startswith(CLASS_PREFIX):
        found = store.get_class(subject)
        return None if found is None else diagnose_class(store, registry, found, all_contracts, limits)
    failure = store.get_failure(subject)
    return None if failure is None else diagnose_failure(registry, failure, all_contracts, limits)


def diagnose_failure(
    registry: Registry, failure: FailureRecord, all_contracts: bool = False, limits: Limits = DEFAULT_LIMITS
) -> Diagnosis:
    """One failure: its errors in words, the versions its payload passes, its near misses."""
    errors = words.failure_errors(failure.errors)
    passing = would_pass_as(registry, [failure], all_contracts, limits)
    misses = near_misses(failure.errors)
    what = f"{failure.contract_ref} rejected this event ({failure.root_cause.value})"
    return Diagnosis(
        subject="failure",
        id=failure.failure_id,
        class_id=class_id_of(failure),
        contract_ref=failure.contract_ref,
        root_cause=failure.root_cause,
        summary=words.summary(what, errors, passing, misses, None),
        errors=errors,
        would_pass_as=passing,
        near_misses=misses,
        drift=None,
        samples=[failure.failure_id],
    )


def diagnose_class(
    store: Store,
    registry: Registry,
    found: FailureClass,
    all_contracts: bool = False,
    limits: Limits = DEFAULT_LIMITS,
) -> Diagnosis:
    """One class: its errors in words (explained by its first sample), what its samples pass, their near
    misses, and its drift."""
    samples = [failure for failure in map(store.get_failure, found.samples) if failure is not None]
    errors = words.class_errors(found.errors, samples[0].errors if samples else (), found.root_cause)
    passing = would_pass_as(registry, samples, all_contracts, limits)
    misses = class_near_misses(samples)
    drift = class_drift(store, found)
    what = f"{found.contract_ref} rejected {found.count} event(s) of this class ({found.root_cause.value})"
    return Diagnosis(
        subject="class",
        id=found.class_id,
        class_id=found.class_id,
        contract_ref=found.contract_ref,
        root_cause=found.root_cause,
        summary=words.summary(what, errors, passing, misses, drift),
        errors=errors,
        would_pass_as=passing,
        near_misses=misses,
        drift=drift,
        samples=[failure.failure_id for failure in samples],
    )


def would_pass_as(
    registry: Registry, failures: Sequence[FailureRecord], all_contracts: bool, limits: Limits
) -> WouldPassAs:
    """``failures``' raw payloads judged again against the versions :func:`candidates` names."""
    first = failures[0] if failures else None
    name = _contract_name(first) if first is not None else None
    tried = candidates(registry, name, first.version if first else None, all_contracts)
    passed, judged, not_judged = judge(failures, tried, limits)
    sent_to = first.contract_ref if first is not None else ""
    return words.would_pass_as(sent_to, [c.ref for c in tried], passed, judged, not_judged)


def judge(
    failures: Sequence[FailureRecord], tried: Sequence[Contract], limits: Limits
) -> tuple[Counter[str], int, list[NotJudged]]:
    """Per version tried, how many of the payloads pass it; how many were judged; those that could not be."""
    passed: Counter[str] = Counter()
    not_judged = [
        NotJudged(failure_id=failure.failure_id, reason=reason)
        for failure in failures
        if (reason := unjudgeable(failure.raw, limits)) is not None
    ]
    skipped = {item.failure_id for item in not_judged}
    for failure in failures:
        if failure.failure_id not in skipped:
            raw = failure.raw.to_bytes()
            passed.update(contract.ref for contract in tried if validate(contract, raw, limits).passed)
    return passed, len(failures) - len(not_judged), not_judged


def candidates(
    registry: Registry, name: str | None, version: int | None, all_contracts: bool
) -> list[Contract]:
    """The versions to judge against: ``name``'s other versions, then (``all_contracts``) every other
    contract's, each in the registry's order."""
    loaded = registry.all()
    same = [contract for contract in loaded if contract.name == name and contract.version != version]
    others = [contract for contract in loaded if contract.name != name] if all_contracts else []
    return same + others


def unjudgeable(raw: RawPayload, limits: Limits) -> str | None:
    """Why a stored payload cannot be judged again; None when it can."""
    if raw.encoding == "omitted":
        return "its bytes are not in the record read"
    if raw.truncated:
        return f"truncated: only the first {len(raw.to_bytes())} of {raw.size} bytes were kept"
    if raw.encoding == "base64":
        return "not valid UTF-8, so not JSON text"
    parsed = parse(raw.to_bytes(), limits)
    if isinstance(parsed, FieldError):
        return f"not readable as JSON: {parsed.message}"
    return None


def class_near_misses(samples: Sequence[FailureRecord]) -> list[NearMiss]:
    """The near misses of a class's samples, paths with indices as ``[*]``, each once, sorted."""
    found = {
        miss.model_copy(
            update={"missing": normalise_path(miss.missing), "unexpected": normalise_path(miss.unexpected)}
        )
        for failure in samples
        for miss in near_misses(failure.errors)
    }
    return sorted(found, key=lambda miss: (miss.missing, miss.unexpected, miss.distance))


def class_drift(store: Store, found: FailureClass) -> words.Drift:
    """When ``found`` first appeared, and whether each producer had records of its contract accepted
    before then."""
    name = found.contract if found.contract is not None else _ref_name(found.contract_ref)
    producers = [
        words.producer_drift(
            producer,
            count,
            name,
            found.first_seen,
            store.producer_activity(name, producer) if name is not None else [],
        )
        for producer, count in sorted(found.producers.items())
    ]
    return words.drift(found.first_seen, found.last_seen, found.first_failure_id, producers)


def _contract_name(failure: FailureRecord) -> str | None:
    return failure.contract if failure.contract is not None else _ref_name(failure.contract_ref)


def _ref_name(ref: str) -> str | None:
    """The contract name of an address (``shipment@7`` → ``shipment``); None when it names none."""
    try:
        return parse_ref(ref).name
    except ValueError:
        return None
