"""``sigma-aetl audit``: judge the stored decisions again and show every one not reproduced byte for byte.

Reads the store and the contracts, writes nothing. Exit codes: 0 every decision checked is identical, 1 some
drifted or name a fingerprint no longer registered, 2 the command could not run.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from sigma_aetl.cli.errors import EXIT_FAILED, EXIT_OK, operational_errors
from sigma_aetl.cli.failures_cmd import ContractOption, Instant, JsonOption, VersionOption
from sigma_aetl.cli.render import details, plain, print_json, stderr_console, stdout_console
from sigma_aetl.cli.state import load_contracts, settings_of, warn_about_lock
from sigma_aetl.ingest.audit import AuditReport, AuditScope, audit
from sigma_aetl.ingest.audit_checks import Judge
from sigma_aetl.stores import Store, open_store
from sigma_aetl.stores.base import MAX_PAGE, FailurePurge

Advance = Callable[[int], None]


def audit_store(
    ctx: typer.Context,
    *,
    contract: ContractOption = None,
    version: VersionOption = None,
    since: Instant = None,
    until: Instant = None,
    batch_size: Annotated[
        int, typer.Option(metavar="N", min=1, max=MAX_PAGE, help="Stored events read at a time.")
    ] = 500,
    as_json: JsonOption = False,
) -> None:
    """Judge every stored accepted record and failure again, from its raw bytes, against the contract
    version and fingerprint it names, and compare the decisions byte for byte.

    Uses the current limits (max_event_bytes, max_depth, max_request_bytes). A fingerprint no longer
    registered is reported, never guessed. Writes nothing.

    Exit codes: 0 every decision is identical, 1 some drifted or name an unknown fingerprint, 2 the
    command could not run.
    """
    settings = settings_of(ctx)
    scope = AuditScope(contract=contract, version=version, since=since, until=until)
    with operational_errors(settings):
        registry = load_contracts(settings)
        warn_about_lock(registry)  # an edited release is exactly what an audit is for: warn, and go on
        store = open_store(settings.store_url, read_only=True)
        try:
            judge = Judge(registry, store, settings.limits, settings.max_request_bytes)
            with _progress(None if as_json else stderr_console(), store, scope) as advance:
                report = audit(store, judge, scope, advance, batch_size=batch_size)
        finally:
            store.close()
    if as_json:
        print_json(report.model_dump(mode="json"))
    else:
        show_audit(stdout_console(), report)
    raise typer.Exit(EXIT_OK if report.reproducible else EXIT_FAILED)


@contextmanager
def _progress(console: Console | None, store: Store, scope: AuditScope) -> Iterator[Advance]:
    """A transient progress bar on a terminal's stderr, by stored events checked; else a no-op."""
    if console is None or not console.is_terminal:
        yield lambda _done: None
        return
    columns = (TextColumn("auditing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("audit", total=_total(store, scope))
        yield lambda done: progress.advance(task, done)


def _total(store: Store, scope: AuditScope) -> int | None:
    """How many stored events the audit will check; None when the count would take a scan (a time range
    over the records)."""
    which = FailurePurge(contract=scope.contract, version=scope.version, since=scope.since, until=scope.until)
    failures = store.count_failures(which).deleted
    if scope.since is not None or scope.until is not None:
        return None
    records = sum(
        count
        for ref, count in store.stats().accepted_by_contract.items()
        if _in_scope(ref, scope.contract, scope.version)
    )
    return records + failures


def _in_scope(ref: str, contract: str | None, version: int | None) -> bool:
    name, _, number = ref.rpartition("@")
    return contract in (None, name) and version in (None, int(number))


def show_audit(console: Console, report: AuditReport) -> None:
    """The audit for a person: the counts, the limits used, then every finding with what differs."""
    verdict = "every decision reproduced" if report.reproducible else "decisions not reproduced"
    rows = [
        ("checked", f"{report.checked} ({report.records} records, {report.failures} failures)"),
        ("identical", str(report.identical)),
        ("drifted", str(report.drifted)),
        ("unknown fingerprint", str(report.unknown_fingerprint)),
        ("truncated", f"{report.truncated} (checked against the size limits only)"),
        ("limits", _limits(report)),
    ]
    console.print(details(rows, title=plain(f"audit: {verdict}")))
    if report.findings:
        console.print(_findings(report))


def _limits(report: AuditReport) -> str:
    limits = report.limits
    return (
        f"max_event_bytes={limits.max_event_bytes} max_depth={limits.max_depth} "
        f"max_request_bytes={limits.max_request_bytes}"
    )


def _findings(report: AuditReport) -> Table:
    table = Table(title="not reproduced", title_justify="left")
    for column in ("id", "contract", "verdict", "what differs"):
        table.add_column(column, overflow="fold")
    for finding in report.findings:
        differs = "\n".join(finding.differs)
        table.add_row(finding.id, plain(finding.contract_ref), finding.verdict, plain(differs))
    return table
