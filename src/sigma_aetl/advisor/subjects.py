"""From a queued target to what the advisor sends: its failure (a class's first sample still stored), its
class, and the fields its contract marks sensitive. Read-only: the store and the contracts are only read."""

from sigma_aetl.advisor.prompt import Subject
from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core.advisories import AdvisoryTarget
from sigma_aetl.core.records import FailureRecord
from sigma_aetl.stores import Store


class TargetGone(Exception):
    """The target is no longer stored (a purge removed it): there is nothing to advise on."""


def subject_of(store: Store, registry: Registry, target: AdvisoryTarget) -> Subject:
    """What the advisor knows of ``target``; raises TargetGone when it is not stored any more."""
    if target.kind == "failure":
        failure = _failure(store, target.id)
        return Subject(target, failure, None, sensitive_of(registry, failure))
    found = store.get_class(target.id)
    if found is None:
        raise TargetGone(f"no failure class {target.id} is stored")
    for sample in found.samples:  # the first one still stored (a purge may have removed the others)
        stored = store.get_failure(sample)
        if stored is not None:
            return Subject(target, stored, found, sensitive_of(registry, stored))
    raise TargetGone(f"no sample failure of class {target.id} is stored any more")


def sensitive_of(registry: Registry, failure: FailureRecord) -> frozenset[str]:
    """The fields marked sensitive for ``failure``: its contract's, or — an event no contract judged —
    those any loaded contract marks (its fields are not known, so every mark counts)."""
    if failure.contract is not None and failure.version is not None:
        contract = registry.get(failure.contract, failure.version)
        if contract is not None:
            return contract.sensitive
    return frozenset(path for contract in registry.all() for path in contract.sensitive)


def _failure(store: Store, failure_id: str) -> FailureRecord:
    failure = store.get_failure(failure_id)
    if failure is None:
        raise TargetGone(f"no failure {failure_id} is stored")
    return failure
