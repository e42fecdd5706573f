"""``sigma-aetl failures list|show|purge``: the stored failure records, by root cause, field and contract,
and their expiry."""

import getpass
import json
import os
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from pydantic import BaseModel, Field
from rich.console import Console, RenderableType
from rich.table import Table

from sigma_aetl import logs
from sigma_aetl.cli.errors import EXIT_FAILED, EXIT_OPERATIONAL, fail, operational_errors
from sigma_aetl.cli.params import ROOT_CAUSES, parse_age, parse_instant, parse_root_cause
from sigma_aetl.cli.render import (
    counts,
    details,
    errors_table,
    plain,
    print_json,
    stdout_console,
    timestamp,
    truncate,
)
from sigma_aetl.cli.state import open_reader, settings_of
from sigma_aetl.core import serial
from sigma_aetl.core.records import Arrival, FailureRecord, Occurrences, RawPayload
from sigma_aetl.core.taxonomy import RootCause
from sigma_aetl.settings import Settings
from sigma_aetl.stores import open_store
from sigma_aetl.stores.base import (
    MAX_INTEGER,
    MAX_PAGE,
    FailurePage,
    FailurePurge,
    FailureQuery,
    PurgeReport,
    Resolution,
)

app = typer.Typer(
    help="Failure records: why events failed, by root cause, field and contract.", no_args_is_help=True
)

EXPLANATION_WIDTH = 56
ROOT_CAUSE_HELP = f"Primary root cause, one of: {ROOT_CAUSES}."
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
Instant = Annotated[
    datetime | None,
    typer.Option(parser=parse_instant, metavar="ISO", help="ISO 8601 date or date-time; UTC when no offset."),
]
# The filters of FailureFilter, as options: declared once, for `list` and `purge` alike.
ContractOption = Annotated[str | None, typer.Option(metavar="NAME", help="Contract name.")]
VersionOption = Annotated[
    int | None, typer.Option(metavar="N", min=1, max=MAX_INTEGER, help="Contract version.")
]
RootCauseOption = Annotated[
    RootCause | None, typer.Option(parser=parse_root_cause, metavar="CAUSE", help=ROOT_CAUSE_HELP)
]
FieldOption = Annotated[str | None, typer.Option(metavar="PATH", help="An error's field path, exactly.")]
_audit = logs.get("failures")


@app.command("list")
def list_failures(
    ctx: typer.Context,
    *,
    contract: ContractOption = None,
    version: VersionOption = None,
    root_cause: RootCauseOption = None,
    field: FieldOption = None,
    since: Instant = None,
    until: Instant = None,
    limit: Annotated[int, typer.Option(min=1, max=MAX_PAGE, help="Page size.")] = 50,
    offset: Annotated[int, typer.Option(min=0, max=MAX_INTEGER, help="Failures to skip.")] = 0,
    as_json: JsonOption = False,
) -> None:
    """List failure records, newest first; filters combine with AND (--since inclusive, --until exclusive)."""
    query = FailureQuery(
        contract=contract,
        version=version,
        root_cause=root_cause,
        field=field,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    settings = settings_of(ctx)
    with operational_errors(settings), open_reader(settings) as store:
        page = store.query_failures(query)
    if as_json:
        print_json(page.model_dump(mode="json"))
    else:
        console = stdout_console()
        console.print(failures_table(page))
        console.print(footer(page), style="dim")


@app.command("show")
def show_failure(
    ctx: typer.Context,
    failure_id: Annotated[str, typer.Argument(help="The failure's id (fail_...).")],
    as_json: JsonOption = False,
) -> None:
    """Show one failure record whole: contract, root cause, every error, source metadata and raw payload.

    Exit codes: 0 found, 1 no failure has that id, 2 the command could not run.
    """
    settings = settings_of(ctx)
    with operational_errors(settings), open_reader(settings) as store:
        record = store.get_failure(failure_id)
        resolutions = store.resolutions(failure_id) if record is not None else []
    if record is None:
        fail(f"no failure record has the id {failure_id!r}", EXIT_FAILED)
    if as_json:
        resolved = {"resolutions": [r.model_dump(mode="json") for r in resolutions]} if resolutions else {}
        print_json({**serial.jsonable(record), **resolved})
    else:
        show(stdout_console(), record)
        if resolutions:
            stdout_console().print(resolutions_table(resolutions))


def resolutions_table(resolutions: list[Resolution]) -> Table:
    """The records replays made of a failure (docs/replay.md); the failure itself stays as it was."""
    table = Table(title="resolved by replay", title_justify="left")
    for column in ("record", "target", "replay", "resolved at"):
        table.add_column(column)
    for r in resolutions:
        table.add_row(plain(r.record_id), plain(r.target), plain(r.replay_id), r.resolved_at.isoformat())
    return table


def failures_table(page: FailurePage) -> Table:
    """One page of failures, a row each."""
    table = Table(title="failures", title_justify="left")
    for column in ("failure_id", "received_at", "contract_ref", "root_cause"):
        table.add_column(column, no_wrap=True)
    table.add_column("arrivals", justify="right", no_wrap=True)
    table.add_column("fields", overflow="fold")
    table.add_column("explanation", overflow="fold")
    for record in page.items:
        table.add_row(
            record.failure_id,
            timestamp(record.received_at),
            plain(record.contract_ref),
            record.root_cause.value,
            str(_seen(record).count),
            plain(", ".join(path or "(payload)" for path in record.fields)),
            plain(truncate(headline(record), EXPLANATION_WIDTH)),
        )
    return table


def _seen(record: FailureRecord) -> Occurrences:
    """The record's occurrences as the store read them (a store always adds them; else: seen once)."""
    if record.occurrences is not None:
        return record.occurrences
    seen = record.with_occurrences().occurrences
    assert seen is not None
    return seen


def headline(record: FailureRecord) -> str:
    """The first explanation of the primary root cause: the one that says why the record has that cause."""
    for error in record.errors:
        if error.root_cause is record.root_cause:
            return error.explanation
    return record.errors[0].explanation if record.errors else ""


def footer(page: FailurePage) -> str:
    """``showing 1-50 of 120``; says so when the page is past the end."""
    if not page.items:
        return f"showing none of {page.total}" + (f" (offset {page.offset})" if page.offset else "")
    return f"showing {page.offset + 1}-{page.offset + len(page.items)} of {page.total}"


def show(console: Console, record: FailureRecord) -> None:
    """``failures show`` for a person."""
    console.print(details(_facts(record), title=plain(record.failure_id)))
    console.print(details(_source(record), title=plain("source (the first arrival)")))
    seen = _seen(record)
    console.print(details(_occurrences(seen), title=plain("occurrences")))
    if seen.count > 1:
        console.print(latest_table(seen.latest))
    console.print(errors_table(record.errors))
    console.print(plain(raw_heading(record.raw)), style="bold")
    console.print(plain(record.raw.text), soft_wrap=True)


def _facts(record: FailureRecord) -> list[tuple[str, RenderableType]]:
    routed = f"{record.contract}@{record.version}" if record.contract is not None else "(not routed)"
    rows: list[tuple[str, RenderableType]] = [
        ("contract as addressed", plain(record.contract_ref)),
        ("contract used", plain(routed)),
        ("fingerprint", record.fingerprint or "-"),
        ("root cause", record.root_cause.value),
        ("stage", record.stage.value),
        ("received at", record.received_at.isoformat()),
        ("identified by", _IDENTIFIED_BY[record.identified_by]),
    ]
    if record.conflicts_with is not None:
        rows.append(("conflicts with", record.conflicts_with))
    return rows


_IDENTIFIED_BY: dict[str | None, str] = {
    "key": "key (Idempotency-Key): the same key again is the same arrival",
    "transport": "transport coordinates: the same coordinates again are the same arrival",
    "raw": "raw bytes: every arrival counts",
    None: "(not recorded: stored before it was)",
}


def _occurrences(seen: Occurrences) -> list[tuple[str, RenderableType]]:
    return [
        ("arrivals", str(seen.count)),
        ("first seen", seen.first_seen.isoformat()),
        ("last seen", seen.last_seen.isoformat()),
    ]


def latest_table(latest: tuple[Arrival, ...]) -> Table:
    """The latest arrivals of a failure seen more than once: when, and the metadata each came with."""
    table = Table(title=f"latest {len(latest)} arrival(s)", title_justify="left")
    table.add_column("received_at", no_wrap=True)
    table.add_column("source", overflow="fold")
    for arrival in latest:
        source = json.dumps(serial.jsonable(arrival.source), ensure_ascii=False, separators=(", ", ": "))
        table.add_row(arrival.received_at.isoformat(), plain(source))
    return table


def _source(record: FailureRecord) -> list[tuple[str, RenderableType]]:
    return [(str(key), plain(_scalar(value))) for key, value in record.source.items()]


def _scalar(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def raw_heading(raw: RawPayload) -> str:
    """What the raw payload below is: its size, encoding and whether only a prefix was kept."""
    parts = [f"raw payload: {raw.size} bytes, sha256 {raw.sha256}"]
    if raw.encoding == "base64":
        parts.append("not valid UTF-8, shown as base64")
    if raw.truncated:
        parts.append(f"TRUNCATED: only the first {len(raw.to_bytes())} bytes were kept")
    return "; ".join(parts)


class PurgeSummary(BaseModel):
    """What ``failures purge`` did, or in a dry run would do; printed as this JSON object with ``--json``."""

    dry_run: bool = Field(description="True: nothing was deleted; `deleted` counts what --yes would delete.")
    filters: FailurePurge = Field(description="Which failures (`last_seen_before` from --older-than).")
    deleted: int = Field(description="Failure records deleted (or that would be).")
    by_root_cause: dict[str, int] = Field(description="The same, per primary root cause.")


@app.command("purge")
def purge_failures(
    ctx: typer.Context,
    *,
    older_than: Annotated[
        timedelta | None,
        typer.Option(
            parser=parse_age,
            metavar="AGE",
            help="Failures last seen (their latest arrival) longer ago than this: 30d, 12h, 90m, 45s, 2w.",
        ),
    ] = None,
    contract: ContractOption = None,
    version: VersionOption = None,
    root_cause: RootCauseOption = None,
    field: FieldOption = None,
    since: Instant = None,
    until: Instant = None,
    yes: Annotated[
        bool, typer.Option("--yes", help="Delete them. Without it, only count what would be deleted.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Expire failure records: count (a dry run, the default) or delete (--yes) the failures the filters
    select, with their field index and occurrences. Filters combine with AND, and at least one is needed;
    --since (inclusive) and --until (exclusive) are on when a failure was first received.

    Deletes in batches, so a running gateway keeps writing meanwhile; a failure that arrives again during
    the purge is kept. Each purge is logged on stderr (filters, count, OS user). An admin action: CLI only.

    Exit codes: 0 counted or deleted (even none), 2 the command could not run.
    """
    which = FailurePurge(
        contract=contract,
        version=version,
        root_cause=root_cause,
        field=field,
        since=since,
        until=until,
        last_seen_before=None if older_than is None else datetime.now(UTC) - older_than,
    )
    if which.is_everything():
        fail(
            "say which failures to purge: --older-than AGE, --contract, --version, --root-cause, --field, "
            "--since or --until (every failure: --older-than 0s)",
            EXIT_OPERATIONAL,
        )
    settings = settings_of(ctx)
    with operational_errors(settings):
        report = _purge(settings, which) if yes else _count(settings, which)
    summary = PurgeSummary(dry_run=not yes, filters=which, **report.model_dump())
    if as_json:
        print_json(summary.model_dump(mode="json"))
    else:
        _show_purge(stdout_console(), summary)


def _count(settings: Settings, which: FailurePurge) -> PurgeReport:
    """The dry run: the store opened read-only, as every command that only reads opens it."""
    with open_reader(settings) as store:
        return store.count_failures(which)


def _purge(settings: Settings, which: FailurePurge) -> PurgeReport:
    """Delete, and log an audit line of it; a store that does not exist yet is an error, not created."""
    if _count(settings, which).deleted == 0:
        return PurgeReport(deleted=0, by_root_cause={})
    logs.configure(settings.log_level, settings.log_format)
    filters = which.model_dump(mode="json", exclude_none=True)
    who = {"user": _os_user(), "store": settings.store_url_redacted}
    store = open_store(settings.store_url)
    try:
        report = store.purge_failures(which)
    except Exception as exc:
        _audit.error("failures_purge_failed", filters=filters, error=str(exc), **who)
        raise
    finally:
        store.close()
    _audit.warning(
        "failures_purged", filters=filters, deleted=report.deleted, by_root_cause=report.by_root_cause, **who
    )
    return report


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in the environment, and no passwd entry
        return f"uid {os.getuid()}"


def _show_purge(console: Console, summary: PurgeSummary) -> None:
    if summary.dry_run:
        verb = f"dry run: {summary.deleted} failure record(s) would be deleted"
        hint = "; run again with --yes to delete them" if summary.deleted else ""
        console.print(plain(verb + hint))
    else:
        console.print(plain(f"deleted {summary.deleted} failure record(s)"))
    console.print(counts("by root cause", "root cause", summary.by_root_cause))
