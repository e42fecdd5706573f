"""Helpers for the diagnosis tests: a SQLite store whose class queries are computed from its failures.

Until the stores keep failure classes (the ``classes`` work of issue 14), ``SqliteStore.get_class`` and
``producer_activity`` raise NotImplementedError. :class:`ClassesFromFailures` answers them the slow way,
by reading every failure and record, so the diagnosis can be tested against a real store meanwhile. Once
the stores implement them, the tests that use it should use ``SqliteStore`` itself (and the ``store``
conformance fixture), and this module goes.
"""

from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import datetime

from sigma_aetl.core.classes import MAX_SAMPLES, FailureClass, class_id_of, producers_of, signature_of
from sigma_aetl.core.records import AcceptedRecord, FailureRecord
from sigma_aetl.stores.base import (
    MAX_PAGE,
    ClassPage,
    ClassQuery,
    FailureQuery,
    ProducerActivity,
    RecordQuery,
)
from sigma_aetl.stores.sqlite.store import SqliteStore


class ClassesFromFailures(SqliteStore):
    """A SqliteStore answering ``get_class`` and ``producer_activity`` from ``query_failures`` and
    ``query_records`` (test-only; see the module docstring)."""

    def query_classes(self, query: ClassQuery) -> ClassPage:
        """Every class, most failures first (filters other than paging are not needed by these tests)."""
        found = sorted(self._classes().values(), key=lambda item: (-item.count, item.class_id))
        page = found[query.offset : query.offset + query.limit]
        after = query.offset + len(page)
        return ClassPage(
            items=page,
            total=len(found),
            limit=query.limit,
            offset=query.offset,
            next_offset=after if after < len(found) else None,
        )

    def get_class(self, class_id: str) -> FailureClass | None:
        """The class of that id, computed from every stored failure."""
        return self._classes().get(class_id)

    def producer_activity(self, contract: str, producer: str) -> list[ProducerActivity]:
        """The producer's accepted records of ``contract``, per version, oldest version first."""
        times: dict[int, list[datetime]] = defaultdict(list)
        for record in self._records(contract):
            if producer in producers_of(record.source):
                times[record.version].append(record.received_at)
        return [
            ProducerActivity(
                contract=contract,
                version=version,
                producer=producer,
                accepted=len(times[version]),
                first_accepted=min(times[version]),
                last_accepted=max(times[version]),
            )
            for version in sorted(times)
        ]

    def _classes(self) -> dict[str, FailureClass]:
        members: dict[str, list[FailureRecord]] = defaultdict(list)
        for failure in sorted(self._failures(), key=lambda item: (item.received_at, item.failure_id)):
            members[class_id_of(failure)].append(failure)
        return {class_id: _class_of(class_id, failures) for class_id, failures in members.items()}

    def _failures(self) -> Iterator[FailureRecord]:
        offset: int | None = 0
        while offset is not None:
            page = self.query_failures(FailureQuery(limit=MAX_PAGE, offset=offset))
            yield from page.items
            offset = page.next_offset

    def _records(self, contract: str) -> Iterator[AcceptedRecord]:
        cursor: str | None = None
        while True:
            page = self.query_records(RecordQuery(contract=contract, limit=MAX_PAGE, cursor=cursor))
            yield from page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor


def _class_of(class_id: str, failures: list[FailureRecord]) -> FailureClass:
    first = failures[0]
    producers: Counter[str] = Counter()
    for failure in failures:
        producers.update(producers_of(failure.source))
    seen = [failure.occurrences or failure.with_occurrences().occurrences for failure in failures]
    return FailureClass(
        class_id=class_id,
        contract_ref=first.contract_ref,
        contract=first.contract,
        version=first.version,
        root_cause=first.root_cause,
        errors=first_signature(first),
        count=len(failures),
        occurrences=sum(item.count for item in seen if item is not None),
        first_seen=first.received_at,
        last_seen=max(item.last_seen for item in seen if item is not None),
        first_failure_id=first.failure_id,
        producers=dict(sorted(producers.items())),
        samples=tuple(failure.failure_id for failure in failures[:MAX_SAMPLES]),
    )


def first_signature(failure: FailureRecord) -> tuple[tuple[str, str], ...]:
    """The (normalised path, type) pairs of ``failure``'s class."""
    return signature_of(failure).errors
