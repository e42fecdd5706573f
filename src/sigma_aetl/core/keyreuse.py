"""An idempotency key reused for other content: the second event is stored apart, never dropped.

A failure named by the producer's key (``identified_by`` = ``key``) has an id made of the key, not of the
bytes, so a retry re-serialised with other whitespace is still the same event. The key alone cannot tell a
retry from a producer that reused the key for another event: the store would find the id taken and call
the second event a duplicate. So the pipeline compares contents. Another content under a taken key is
stored as its own failure, with every error its decision found plus one ``idempotency_key_reused`` error,
under an id made of the key *and* that content (a retry of it writes nothing new), and ``conflicts_with``
naming the failure the key first stored — as a valid event whose identity is taken becomes an
``identity_conflict`` failure. Its primary root cause stays that of its own errors: the key's reuse is
found last, at the identity stage.
"""

import dataclasses

from sigma_aetl.core.canonical import canonical_bytes, sha256_hex
from sigma_aetl.core.decision import FieldError
from sigma_aetl.core.envelope import Envelope
from sigma_aetl.core.ids import failure_id
from sigma_aetl.core.jsonparse import Limits, Parsed, parse
from sigma_aetl.core.records import FailureRecord, RawPayload
from sigma_aetl.core.taxonomy import RootCause, Stage

REUSED = "idempotency_key_reused"
"""The error type of an event sent under a key that already names another event."""


def content_of(raw: RawPayload, limits: Limits) -> str:
    """What tells two events under one key apart: their JSON value (whitespace and key order aside) when
    the bytes parse, else the bytes themselves; for a body kept only in part, its first bytes and size."""
    if raw.truncated:
        return f"prefix:{raw.sha256}:{raw.size}"
    parsed = parse(raw.to_bytes(), limits)
    if isinstance(parsed, Parsed):
        return "json:" + sha256_hex(canonical_bytes(parsed.value))
    return f"bytes:{raw.sha256}"


def reused_key_record(envelope: Envelope, failure: FailureRecord, content: str, first: str) -> FailureRecord:
    """``failure`` (of ``envelope``, whose key already names failure ``first``) stored apart: under the
    key and its ``content``, with the reuse among its errors and ``first`` as ``conflicts_with``."""
    identity = (*envelope.source_identity(), "content", content)
    key = envelope.idempotency_key
    message = (
        f"The Idempotency-Key {key!r} already names another event, stored as {first}; this event has "
        "other content, so it is stored apart under its own id and the first is kept unchanged."
    )
    error = FieldError(
        path="",
        loc=(),
        type=REUSED,
        root_cause=RootCause.IDENTITY_CONFLICT,
        stage=Stage.IDENTITY,
        message=message,
        constraint="one content per idempotency key",
        explanation=message,
    )
    return dataclasses.replace(
        failure,
        failure_id=failure_id(envelope.contract, envelope.version, identity),
        errors=(*failure.errors, error),
        conflicts_with=first,
    )
