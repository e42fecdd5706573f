"""Failure classes: which failures are the same problem, decided from the failure record alone.

A class's signature is the contract as the event addressed it, the primary root cause, and the sorted set of
(field path with array indices replaced by ``[*]``, error type) of its errors. Two failures with the same
signature are the same problem however their values differ: ``items[3].sku`` missing and ``items[0].sku``
missing are one class; ``weight_kg`` too low and ``weight_kg`` of the wrong type are two.

The class id is a hash of the signature, so it is the same on every run, machine and store, and a failure's
class can be computed from the failure alone (a replay filters by it without reading any class table).
"""

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field

from sigma_aetl.core.canonical import canonical_bytes, sha256_hex
from sigma_aetl.core.records import FailureRecord
from sigma_aetl.core.taxonomy import RootCause
from sigma_aetl.core.value import value

MAX_SAMPLES = 5
"""How many failure ids a class keeps as samples: its first ones, in arrival order."""
_INDEX = re.compile(r"\[\d+\]")
CLASS_ID = re.compile(r"cls_[0-9a-f]{32}")
"""What a class id looks like (:attr:`ClassSignature.class_id`); any other text is no class's id."""


def normalise_path(path: str) -> str:
    """``items[3].sku`` → ``items[*].sku``: a field path with every array index replaced by ``[*]``."""
    return _INDEX.sub("[*]", path)


@value
class ClassSignature:
    """What makes two failures the same problem."""

    contract_ref: Annotated[str, Field(description="The contract as the events addressed it.")]
    root_cause: Annotated[RootCause, Field(description="Their primary root cause.")]
    errors: Annotated[
        tuple[tuple[str, str], ...],
        Field(description="Sorted, distinct (field path with indices as `[*]`, error type) pairs."),
    ]

    @property
    def class_id(self) -> str:
        """The class's stable id: a hash of the signature."""
        pairs = [list(pair) for pair in self.errors]
        parts: list[Any] = ["class", self.contract_ref, str(self.root_cause), pairs]
        return f"cls_{sha256_hex(canonical_bytes(parts))[:32]}"

    @property
    def fields(self) -> tuple[str, ...]:
        """The distinct normalised field paths the signature names, sorted."""
        return tuple(sorted({path for path, _ in self.errors}))


def signature_of(failure: FailureRecord) -> ClassSignature:
    """The signature of ``failure``'s class."""
    pairs = {(normalise_path(error.path), error.type) for error in failure.errors}
    return ClassSignature(failure.contract_ref, failure.root_cause, tuple(sorted(pairs)))


def class_id_of(failure: FailureRecord) -> str:
    """The id of ``failure``'s class."""
    return signature_of(failure).class_id


def producers_of(source: Mapping[str, Any]) -> tuple[str, ...]:
    """Who sent an event, as the producer labels a class counts: ``key:<key id>`` (HTTP with API keys),
    ``client:<host>`` (HTTP; the port is left out, it changes with every connection), ``topic:<topic>``
    (Kafka, or a Kafka message forwarded over HTTP), ``file:<path>`` or ``stdin`` (sigma-aetl ingest)."""
    kind = source.get("kind")
    found: list[str] = []
    if kind == "http":
        if isinstance(source.get("key_id"), str):
            found.append(f"key:{source['key_id']}")
        client = source.get("client")
        if isinstance(client, str) and client:
            found.append(f"client:{_host_of(client)}")
        forwarded = source.get("kafka")
        if isinstance(forwarded, Mapping) and isinstance(forwarded.get("topic"), str):
            found.append(f"topic:{forwarded['topic']}")
    elif kind == "kafka" and isinstance(source.get("topic"), str):
        found.append(f"topic:{source['topic']}")
    elif kind == "file" and isinstance(source.get("path"), str):
        found.append(f"file:{source['path']}")
    elif kind == "stdin":
        found.append("stdin")
    return tuple(found)


def _host_of(client: str) -> str:
    """``10.0.0.7:51234`` → ``10.0.0.7``; ``[::1]:8000`` and ``::1:8000`` → ``::1``."""
    host, separator, port = client.rpartition(":")
    if not separator or not port.isdigit():
        return client
    return host.strip("[]")


@value(kw_only=True)
class FailureClass:
    """One problem: every stored failure with the same signature, counted as failures are written."""

    class_id: Annotated[str, Field(description="Stable id: a hash of the signature.")]
    contract_ref: Annotated[str, Field(description="The contract as the events addressed it.")]
    contract: Annotated[str | None, Field(description="Contract name, when routing succeeded.")] = None
    version: Annotated[int | None, Field(description="Contract version, when routing succeeded.")] = None
    root_cause: Annotated[RootCause, Field(description="The primary root cause.")]
    errors: Annotated[
        tuple[tuple[str, str], ...],
        Field(description="The signature's sorted (field path with indices as `[*]`, error type) pairs."),
    ]
    count: Annotated[int, Field(description="Distinct failure records in the class.", ge=0)]
    occurrences: Annotated[
        int, Field(description="Their arrivals (a failure identified by its bytes counts each one).", ge=0)
    ]
    first_seen: Annotated[
        datetime, Field(description="The earliest `received_at` of a failure in the class.")
    ]
    last_seen: Annotated[datetime, Field(description="The latest arrival of a failure in the class.")]
    first_failure_id: Annotated[str, Field(description="The class's first failure: where it started.")]
    producers: Annotated[
        dict[str, int],
        Field(description="Failures per producer label (`key:…`, `client:…`, `topic:…`, `file:…`)."),
    ]
    samples: Annotated[
        tuple[str, ...], Field(description=f"The ids of its first failures, at most {MAX_SAMPLES}.")
    ]

    @property
    def signature(self) -> ClassSignature:
        """The class's signature."""
        return ClassSignature(self.contract_ref, self.root_cause, self.errors)
