"""The SQLite write itself, as plain rows: built in the caller's process, applied in the writer's.

:func:`rows_of` turns records into the tuples the tables hold (documents serialised, duplicates within
the batch dropped, the first kept, and the arrivals of failures identified by their bytes tallied: see
:mod:`sigma_aetl.stores.arrivals`); :func:`sigma_aetl.stores.sqlite.apply.apply` applies them in the
writer's transaction. Rows are plain tuples,
so they cross a process boundary cheaply (see :mod:`sigma_aetl.stores.sqlite.writer`).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sigma_aetl.core import serial
from sigma_aetl.core.classes import producers_of
from sigma_aetl.core.records import MAX_LATEST, AcceptedRecord, FailureRecord, written_json
from sigma_aetl.stores.arrivals import Tally, tally
from sigma_aetl.stores.base import WriteReport, micros
from sigma_aetl.stores.classes import Classifier, ClassMeta

Row = tuple[Any, ...]
Existing = tuple[dict[str, str], set[str]]
"""What a write found already stored: record id → content hash, and failure ids."""


@dataclass(frozen=True, slots=True)
class Rows:
    """One write's rows: ``records`` and ``failures`` start with their id; ``fields`` is (path, id);
    ``counted`` is (id, arrivals, first µs, last µs, the JSON of the write's latest arrivals, or None for
    a single copy, whose arrival its failure row's document describes) per failure whose copies count."""

    records: list[Row]
    failures: list[Row]
    fields: list[tuple[str, str]]
    counted: list[Row]
    headers: list[tuple[str, bytes]]
    """(key, JSON) of each request's headers the records name (``stores/metadata.py``)."""
    classes: dict[str, ClassMeta]
    """The failure classes of ``failures`` (each failure row ends with its class id)."""
    producers: dict[str, tuple[str, ...]]
    """Record or failure id → its producer labels (failure classes and producer activity count them)."""


def rows_of(
    records: Sequence[AcceptedRecord], failures: Sequence[FailureRecord], headers: dict[str, bytes]
) -> Rows:
    """The rows for a write (records whose ``source`` names ``headers`` by key); a repeated id keeps its
    first record."""
    stamps: dict[Any, int] = {}  # a batch's events mostly share one arrival time
    producers = {r.record_id: producers_of(r.source) for r in records}
    record_rows = {
        r.record_id: (
            r.record_id,
            r.contract,
            r.version,
            r.fingerprint,
            r.content_hash,
            _micros(stamps, r.received_at),
            serial.dumps(r),
        )
        for r in reversed(records)
    }
    arrivals = tally(failures)
    counted = {
        failure_id: (failure_id, t.count, t.first_us, t.last_us, _latest(t))
        for failure_id, t in arrivals.tallies.items()
    }
    failure_rows: list[Row] = []
    fields: list[tuple[str, str]] = []
    classifier = Classifier()
    for f in arrivals.firsts:
        failure_rows.append(
            (
                f.failure_id,
                f.contract_ref,
                f.contract,
                f.version,
                f.root_cause.value,
                f.stage.value,
                _micros(stamps, f.received_at),
                written_json(f),
                *_first_occurrences(counted.get(f.failure_id)),
                classifier.class_of(f),
            )
        )
        producers[f.failure_id] = producers_of(f.source)
        fields.extend((path, f.failure_id) for path in f.fields)
    return Rows(
        list(reversed(record_rows.values())),
        failure_rows,
        fields,
        list(counted.values()),
        list(headers.items()),
        classifier.meta,
        producers,
    )


def _latest(tally: Tally) -> list[bytes] | None:
    # a single copy (the common case) is not serialised twice: only a repeat of a stored failure needs
    # its arrival, and the writer reads that from the row's document
    return None if tally.count == 1 else [serial.dumps(arrival) for arrival in tally.latest]


def _first_occurrences(counted: Row | None) -> Row:
    """The occurrence columns of a new failure row. ``latest`` holds the arrivals after the row's own (the
    last of them, at most MAX_LATEST); NULL for first and last seen stands for the row's own receipt."""
    if counted is None or counted[1] == 1:
        return (1, None, None, None)
    _, count, first_us, last_us, latest = counted
    repeats = latest[1:] if count <= MAX_LATEST else latest  # the tally still holds the first copy
    return (count, first_us, last_us, lines(repeats))


def _micros(stamps: dict[Any, int], moment: Any) -> int:
    found = stamps.get(moment)
    if found is None:
        found = stamps[moment] = micros(moment)
    return found


def lines(elements: list[bytes]) -> bytes:
    """Arrivals' JSON as the ``latest`` column holds them: one per line (compact JSON holds no newline)."""
    return b"\n".join(elements)


def report(rows: Rows, existing: Existing) -> WriteReport:
    """The write's report: ids newly stored, and ids found stored."""
    records, failures = existing
    return WriteReport(
        new_records={row[0] for row in rows.records} - records.keys(),
        existing_records=records,
        new_failures={row[0] for row in rows.failures} - failures,
        existing_failures=failures,
        counted_arrivals={row[0]: row[1] for row in rows.counted},
    )
