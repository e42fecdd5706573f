"""The audit: every stored decision in scope judged again, and the ones not reproduced byte for byte.

``sigma-aetl audit`` reads the accepted records (through the records stream's cursor) and then the failures
(:meth:`~sigma_aetl.stores.base.Store.iter_failures`), both keyset-paged a batch at a time, so memory is
bounded by the batch and the findings, never by the store. Each one is re-decided by a
:class:`~sigma_aetl.ingest.audit_checks.Judge`; the report counts what was checked and lists every finding
with its id and what differs. Nothing is written.

The decisions depend on the contract definitions (named by fingerprint) and on the limits: the event
limits (``max_event_bytes``, ``max_depth``) and, for a body kept only in part, ``max_request_bytes``. The
audit uses the limits it is given — the current settings — and says which in its report.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from pydantic import BaseModel, Field

from sigma_aetl.core.records import AcceptedRecord, FailureRecord
from sigma_aetl.ingest.audit_checks import Finding, Judge
from sigma_aetl.stores.base import MAX_PAGE, FailureFilter, Instant, RecordQuery, Store

Progress = Callable[[int], None]
"""Told how many more stored events were checked, after each batch."""


class AuditScope(BaseModel):
    """Which stored decisions to audit; every filter is optional and they combine with AND."""

    contract: str | None = Field(default=None, description="Only those judged by this contract.")
    version: int | None = Field(default=None, ge=1, description="Only those judged by this version.")
    since: Instant | None = Field(default=None, description="Received at or after (inclusive).")
    until: Instant | None = Field(default=None, description="Received before (exclusive).")


class AuditLimits(BaseModel):
    """The limits the decisions were judged again with (the current settings)."""

    max_event_bytes: int
    max_depth: int
    max_request_bytes: int


class AuditReport(BaseModel):
    """What the audit checked and what it found; ``findings`` lists every decision not reproduced."""

    scope: AuditScope
    limits: AuditLimits
    checked: int = Field(description="Stored decisions judged again (or found unjudgeable).")
    records: int = Field(description="Of them, accepted records.")
    failures: int = Field(description="Of them, failure records.")
    identical: int = Field(description="Reproduced byte for byte.")
    drifted: int = Field(description="Judged again with another outcome.")
    unknown_fingerprint: int = Field(description="Judged by a contract version no longer registered.")
    truncated: int = Field(description="Failures kept only in part, checked against the size limits.")
    findings: list[Finding] = Field(description="Every drifted or unknown-fingerprint decision.")

    @property
    def reproducible(self) -> bool:
        """True when every decision checked was reproduced byte for byte."""
        return self.identical == self.checked


@dataclass
class _Tally:
    records: int = 0
    failures: int = 0
    truncated: int = 0
    findings: list[Finding] = field(default_factory=list)

    def add(self, finding: Finding | None) -> None:
        if finding is not None:
            self.findings.append(finding)


def audit(
    store: Store, judge: Judge, scope: AuditScope, progress: Progress | None = None, *, batch_size: int = 500
) -> AuditReport:
    """Judge every stored decision in ``scope`` again; read-only."""
    tell = progress or _silent
    tally = _Tally()
    for records in stored_records(store, scope, batch_size):
        tally.records += len(records)
        for record in records:
            tally.add(judge.record(record))
        tell(len(records))
    for failures in stored_failures(store, scope, batch_size):
        tally.failures += len(failures)
        tally.truncated += sum(1 for failure in failures if failure.raw.truncated)
        for failure in failures:
            tally.add(judge.failure(failure))
        tell(len(failures))
    return _report(scope, judge, tally)


def stored_records(store: Store, scope: AuditScope, batch_size: int) -> Iterator[list[AcceptedRecord]]:
    """The accepted records in scope, a page of the records stream at a time, following its cursor."""
    query = RecordQuery(
        contract=scope.contract,
        version=scope.version,
        since=scope.since,
        until=scope.until,
        limit=min(batch_size, MAX_PAGE),
    )
    while True:
        page = store.query_records(query)
        if page.items:
            yield page.items
        if page.next_cursor is None:
            return
        query = query.model_copy(update={"cursor": page.next_cursor})


def stored_failures(store: Store, scope: AuditScope, batch_size: int) -> Iterator[list[FailureRecord]]:
    """The failures in scope, keyset-paged; with a contract or version, only those it judged."""
    which = FailureFilter(
        contract=scope.contract, version=scope.version, since=scope.since, until=scope.until
    )
    return store.iter_failures(which, batch_size=batch_size)


def _report(scope: AuditScope, judge: Judge, tally: _Tally) -> AuditReport:
    checked = tally.records + tally.failures
    unknown = sum(1 for finding in tally.findings if finding.verdict == "unknown_fingerprint")
    return AuditReport(
        scope=scope,
        limits=AuditLimits(
            max_event_bytes=judge.limits.max_bytes,
            max_depth=judge.limits.max_depth,
            max_request_bytes=judge.request_limit,
        ),
        checked=checked,
        records=tally.records,
        failures=tally.failures,
        identical=checked - len(tally.findings),
        drifted=len(tally.findings) - unknown,
        unknown_fingerprint=unknown,
        truncated=tally.truncated,
        findings=tally.findings,
    )


def _silent(_: int) -> None:
    """No progress shown."""
