"""What one write (or one migration batch) adds to the failure classes and to producer activity.

Both stores keep classes (``core/classes.py``) as failures are written, aggregated per write: one
:class:`ClassDelta` per class the write touches, one :class:`ActivityDelta` per (contract, version,
producer) of its new accepted records, applied as one upsert each in the write's own transaction (SQLite)
or right after its bulk writes (MongoDB). Only failures the write stored anew add to ``count``; the
arrivals of failures identified by their bytes add to ``occurrences`` whether their record is new or not
(``WriteReport.counted_arrivals``), so a retry or replay adds nothing but the arrivals it really is.

:class:`Classifier` computes class ids with a cache: a write's failures mostly share a few signatures, and
the hash of a signature costs more than building its cache key.
"""

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from sigma_aetl.core.classes import MAX_SAMPLES, producers_of, signature_of
from sigma_aetl.core.records import AcceptedRecord, FailureRecord

ClassMeta = tuple[str, str, str | None, int | None, str, str]
"""(class id, contract as addressed, contract, version, root cause, JSON of the signature's errors)."""


class Classifier:
    """Class ids of failures, each signature hashed once per classifier."""

    def __init__(self) -> None:
        self._ids: dict[tuple[Any, ...], str] = {}
        self.meta: dict[str, ClassMeta] = {}
        """Every class seen so far: what its row or document holds besides its counts."""

    def class_of(self, failure: FailureRecord) -> str:
        """The class id of ``failure`` (its class's meta is kept in :attr:`meta`)."""
        key = (failure.contract_ref, failure.root_cause, *[(e.path, e.type) for e in failure.errors])
        class_id = self._ids.get(key)
        if class_id is None:
            signature = signature_of(failure)
            class_id = self._ids[key] = signature.class_id
            errors = orjson.dumps([list(pair) for pair in signature.errors]).decode()
            self.meta[class_id] = (
                class_id,
                failure.contract_ref,
                failure.contract,
                failure.version,
                failure.root_cause.value,
                errors,
            )
        return class_id


def fields_of(errors_json: str) -> list[str]:
    """The distinct field paths of a signature's errors (as :func:`Classifier.class_of` stores them)."""
    return sorted({path for path, _ in orjson.loads(errors_json)})


def record_producers(record: AcceptedRecord) -> tuple[str, ...]:
    """The producer labels of an accepted record (the same labels classes count)."""
    return producers_of(record.source)


def failure_producers(failure: FailureRecord) -> tuple[str, ...]:
    """The producer labels of a failure record."""
    return producers_of(failure.source)


def source_producers(source: Mapping[str, Any]) -> tuple[str, ...]:
    """The producer labels of a stored document's ``source``."""
    return producers_of(source)


@dataclass(slots=True)
class ClassDelta:
    """What a write adds to one class."""

    count: int = 0
    occurrences: int = 0
    first: tuple[int, str] | None = None
    """(µs, failure id) of its earliest new failure: ties by id."""
    last_us: int = 0
    samples: list[str] = field(default_factory=list)
    producers: Counter[str] = field(default_factory=Counter)

    def add_failure(
        self, failure_id: str, received_us: int, occurrences: int, last_us: int, producers: tuple[str, ...]
    ) -> None:
        """Count one failure stored anew, with its arrivals so far."""
        self.count += 1
        self.occurrences += occurrences
        if self.first is None or (received_us, failure_id) < self.first:
            self.first = (received_us, failure_id)
        self.last_us = max(self.last_us, last_us, received_us)
        if len(self.samples) < MAX_SAMPLES:
            self.samples.append(failure_id)
        self.producers.update(producers)

    def add_arrivals(self, count: int, last_us: int) -> None:
        """Count more arrivals of a failure stored already."""
        self.occurrences += count
        self.last_us = max(self.last_us, last_us)


@dataclass(slots=True)
class ActivityDelta:
    """What a write adds to one producer's activity under one contract version."""

    accepted: int = 0
    first_us: int = 0
    last_us: int = 0

    def add(self, received_us: int) -> None:
        """Count one accepted record stored anew."""
        if not self.accepted or received_us < self.first_us:
            self.first_us = received_us
        self.last_us = max(self.last_us, received_us)
        self.accepted += 1


def merged_samples(kept: list[str], new: list[str]) -> list[str]:
    """A class's samples after a write: those kept, then the new ones, at most MAX_SAMPLES."""
    return [*kept, *(sample for sample in new if sample not in kept)][:MAX_SAMPLES]
