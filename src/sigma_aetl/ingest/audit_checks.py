"""One stored decision judged again: the audit's check of a single accepted record or failure.

A :class:`Judge` re-decides a stored event from its stored raw bytes, against the contract version *and
fingerprint* it names, with the limits it is given, exactly as the pipeline decided it
(:mod:`sigma_aetl.ingest.pipeline`), and compares the new decision with the stored one, byte for byte:

- an accepted record must pass again, with the same canonical data, content hash and record id;
- a failure must fail again, with the same root cause, stage and errors (compared as serialised JSON);
- a failure never routed (unknown contract or version) must still be unroutable, with the same root
  cause, stage and error type (its message lists the contracts or versions registered at the time, which
  grow: those words are not compared);
- an identity conflict must pass again, under the record id it names, and that record must be stored with
  other content; a reused idempotency key must name a stored failure with other content;
- a failure kept only in part (over a size limit) must be too large under the limit given, with the same
  error: its bytes are only a prefix, so nothing else of it can be judged.

A fingerprint the registry no longer holds (the version was edited or removed) is reported as such: the
decision is never re-made against another definition. Nothing is written.
"""

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, Field

from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core import serial
from sigma_aetl.core.canonical import canonical_bytes
from sigma_aetl.core.contract import Contract
from sigma_aetl.core.decision import Decision, FieldError
from sigma_aetl.core.envelope import Envelope
from sigma_aetl.core.jsonparse import Limits
from sigma_aetl.core.keyreuse import REUSED, content_of
from sigma_aetl.core.records import AcceptedRecord, FailureRecord, accepted_record, conflict_record
from sigma_aetl.core.validator import failed, validate
from sigma_aetl.ingest.pipeline import payload_too_large, request_too_large
from sigma_aetl.stores.base import Store

Verdict = Literal["drifted", "unknown_fingerprint"]


class Finding(BaseModel):
    """A stored decision that is not reproduced byte for byte, and what differs."""

    kind: Literal["record", "failure"] = Field(description="An accepted record or a failure record.")
    id: str = Field(description="Its `record_id` or `failure_id`.")
    contract_ref: str = Field(description="The contract it names (as addressed, for a failure).")
    verdict: Verdict = Field(
        description="`drifted`: judged again, the decision differs; `unknown_fingerprint`: the contract "
        "version that judged it is no longer in the registry, so it was not judged again."
    )
    differs: list[str] = Field(description="What differs, one line each: `what: stored …, now …`.")


class Judge:
    """Re-decides stored events against the registry, with ``limits`` (the event limits) and
    ``request_limit`` (the HTTP body limit); reads ``store`` only to look up what a conflict names."""

    def __init__(self, registry: Registry, store: Store, limits: Limits, request_limit: int) -> None:
        self.registry = registry
        self.store = store
        self.limits = limits
        self.request_limit = request_limit

    def record(self, record: AcceptedRecord) -> Finding | None:
        """None when ``record`` is reproduced exactly; else what differs."""
        ref = f"{record.contract}@{record.version}"
        contract = self.registry.get(record.contract, record.version)
        if contract is None or contract.fingerprint != record.fingerprint:
            return _unknown("record", record.record_id, ref, record.fingerprint, contract)
        decision = validate(contract, record.raw.to_bytes(), self.limits)
        if decision.data is None:
            return _drifted(
                "record", record.record_id, ref, [f"decision: stored PASSED, now {_said(decision)}"]
            )
        fresh = accepted_record(_envelope(record), decision.data, contract)
        differs = _fields_differ(
            [
                ("record_id", record.record_id, fresh.record_id),
                ("content_hash", record.content_hash, fresh.content_hash),
            ]
        )
        if canonical_bytes(record.data) != canonical_bytes(fresh.data):
            differs.insert(0, f"data: differs at {_keys_differ(record.data, fresh.data)}")
        return _drifted("record", record.record_id, ref, differs) if differs else None

    def failure(self, failure: FailureRecord) -> Finding | None:
        """None when ``failure`` is reproduced exactly; else what differs."""
        ref = failure.contract_ref
        own, reused = _reuse_split(failure.errors)
        if failure.fingerprint is None:
            differs = self._unrouted(failure, own)
        else:
            assert failure.contract is not None
            assert failure.version is not None
            contract = self.registry.get(failure.contract, failure.version)
            if contract is None or contract.fingerprint != failure.fingerprint:
                return _unknown("failure", failure.failure_id, ref, failure.fingerprint, contract)
            differs = self._routed(failure, own, contract)
        if reused is not None:
            differs.extend(self._reuse(failure))
        return _drifted("failure", failure.failure_id, ref, differs) if differs else None

    def _unrouted(self, failure: FailureRecord, own: Sequence[FieldError]) -> list[str]:
        """A failure no contract judged: routing it again must fail the same way."""
        name, version = _addressed(failure.contract_ref)
        routed = self.registry.route(name, version)
        if isinstance(routed, Contract):
            return [f"routing: stored {failure.root_cause.value}, now routed to {routed.ref}"]
        stored = [(error.type, error.root_cause, error.stage) for error in own]
        if stored != [(routed.type, routed.root_cause, routed.stage)]:
            return [f"errors: stored [{_listed(own)}], now [{_listed([routed])}]"]
        return []  # its words list the contracts registered then, which may have grown since

    def _routed(self, failure: FailureRecord, own: Sequence[FieldError], contract: Contract) -> list[str]:
        if failure.raw.truncated:
            return _decision_differs(failure, own, failed([self._too_large(failure)], contract))
        decision = validate(contract, failure.raw.to_bytes(), self.limits)
        if len(own) == 1 and own[0].type == "identity_conflict":
            return self._conflict(failure, own, decision, contract)
        if decision.passed:
            return [f"decision: stored FAILED ({failure.root_cause.value}), now PASSED"]
        return _decision_differs(failure, own, decision)

    def _too_large(self, failure: FailureRecord) -> FieldError:
        """The error the limits now give a failure kept only in part, of the kind it was stored with."""
        raw = failure.raw
        kept = len(raw.to_bytes())
        if failure.errors and failure.errors[0].type == "payload_too_large":
            return payload_too_large(raw.size, kept, self.limits.max_bytes)
        return request_too_large(None if raw.size_unknown else raw.size, kept, self.request_limit)

    def _conflict(
        self, failure: FailureRecord, own: Sequence[FieldError], decision: Decision, contract: Contract
    ) -> list[str]:
        """A valid event whose identity was stored with other content: it still is, under the same id."""
        if decision.data is None:
            return [f"decision: stored identity_conflict (a valid event), now {_said(decision)}"]
        envelope = _envelope(failure)
        fresh = accepted_record(envelope, decision.data, contract)
        expected = conflict_record(envelope, fresh, contract.identity)
        differs = _errors_differ(own, expected.errors)
        if fresh.record_id != failure.conflicts_with:
            differs.append(f"conflicts_with: stored {failure.conflicts_with}, now {fresh.record_id}")
            return differs
        stored = self.store.get_record(fresh.record_id)
        if stored is None:
            differs.append(f"conflicts_with: the record {fresh.record_id} it names is not stored")
        elif stored.content_hash == fresh.content_hash:
            differs.append(f"conflicts_with: the record {fresh.record_id} has the same content (no conflict)")
        return differs

    def _reuse(self, failure: FailureRecord) -> list[str]:
        """A reused idempotency key: the failure it names is stored, with other content."""
        first = failure.conflicts_with
        stored = None if first is None else self.store.get_failure(first)
        if stored is None:
            return [f"conflicts_with: the failure {first} the reused key names is not stored"]
        if content_of(stored.raw, self.limits) == content_of(failure.raw, self.limits):
            return [f"conflicts_with: the failure {first} has the same content (no reuse)"]
        return []


def _reuse_split(errors: Sequence[FieldError]) -> tuple[Sequence[FieldError], FieldError | None]:
    """A failure's own errors, and the reused-key error the pipeline appended last, if any."""
    if errors and errors[-1].type == REUSED:
        return errors[:-1], errors[-1]
    return errors, None


def _decision_differs(failure: FailureRecord, own: Sequence[FieldError], decision: Decision) -> list[str]:
    """What differs between a stored failure (its own errors) and a FAILED decision made again."""
    assert decision.root_cause is not None
    assert decision.stage is not None
    differs = _fields_differ(
        [
            ("root_cause", failure.root_cause.value, decision.root_cause.value),
            ("stage", failure.stage.value, decision.stage.value),
        ]
    )
    return differs + _errors_differ(own, decision.errors)


def _errors_differ(stored: Sequence[FieldError], now: Sequence[FieldError]) -> list[str]:
    """Nothing when the errors serialise to the same bytes; else how they differ."""
    if serial.dumps(list(stored)) == serial.dumps(list(now)):
        return []
    if _listed(stored) != _listed(now):
        return [f"errors: stored [{_listed(stored)}], now [{_listed(now)}]"]
    return [
        f"error at {a.path or '(payload)'}: stored {_worded(a)}, now {_worded(b)}"
        for a, b in zip(stored, now, strict=True)
        if a != b
    ]


def _worded(error: FieldError) -> str:
    """An error's words as shown in a finding: its explanation, cut at 160 characters."""
    text = error.explanation if len(error.explanation) <= 160 else error.explanation[:157] + "..."
    return repr(text)


def _listed(errors: Sequence[FieldError]) -> str:
    return ", ".join(f"{error.type} at {error.path or '(payload)'}" for error in errors)


def _fields_differ(pairs: Sequence[tuple[str, str | None, str | None]]) -> list[str]:
    return [f"{name}: stored {stored}, now {now}" for name, stored, now in pairs if stored != now]


def _keys_differ(stored: dict[str, object], now: dict[str, object]) -> str:
    keys = sorted(
        key
        for key in stored.keys() | now.keys()
        if canonical_bytes(stored.get(key)) != canonical_bytes(now.get(key))
    )
    return ", ".join(keys) or "(key order)"


def _said(decision: Decision) -> str:
    cause = decision.root_cause.value if decision.root_cause else "?"
    return f"FAILED ({cause}: {_listed(decision.errors)})"


def _unknown(
    kind: Literal["record", "failure"], id_: str, ref: str, fingerprint: str | None, now: Contract | None
) -> Finding:
    where = f"{now.ref} is now {now.fingerprint}" if now is not None else "the version is not registered"
    differs = [f"fingerprint: {fingerprint} is not in the registry ({where})"]
    return Finding(kind=kind, id=id_, contract_ref=ref, verdict="unknown_fingerprint", differs=differs)


def _drifted(kind: Literal["record", "failure"], id_: str, ref: str, differs: list[str]) -> Finding:
    return Finding(kind=kind, id=id_, contract_ref=ref, verdict="drifted", differs=differs)


def _envelope(stored: AcceptedRecord | FailureRecord) -> Envelope:
    """An envelope holding a stored event's bytes, as the records built from it need."""
    return Envelope(stored.raw.to_bytes(), None, None, stored.received_at, stored.source)


def _addressed(ref: str) -> tuple[str | None, str | None]:
    """The contract and version an event addressed, from its ``contract_ref`` (``?``: none named)."""
    name, _, version = ref.rpartition("@")
    return (None if name == "?" else name), (None if version == "?" else version)
