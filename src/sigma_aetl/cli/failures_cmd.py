"""``sigma-aetl failures list|show``: the stored failure records, by root cause, field and contract."""

import json
from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console, RenderableType
from rich.table import Table

from sigma_aetl.cli.errors import EXIT_FAILED, fail, operational_errors
from sigma_aetl.cli.params import ROOT_CAUSES, parse_instant, parse_root_cause
from sigma_aetl.cli.render import (
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
from sigma_aetl.core.records import FailureRecord, RawPayload
from sigma_aetl.core.taxonomy import RootCause
from sigma_aetl.stores.base import MAX_PAGE, FailurePage, FailureQuery

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


@app.command("list")
def list_failures(
    ctx: typer.Context,
    *,
    contract: Annotated[str | None, typer.Option(metavar="NAME", help="Contract name.")] = None,
    version: Annotated[int | None, typer.Option(metavar="N", min=1, help="Contract version.")] = None,
    root_cause: Annotated[
        RootCause | None, typer.Option(parser=parse_root_cause, metavar="CAUSE", help=ROOT_CAUSE_HELP)
    ] = None,
    field: Annotated[str | None, typer.Option(metavar="PATH", help="An error's field path, exactly.")] = None,
    since: Instant = None,
    until: Instant = None,
    limit: Annotated[int, typer.Option(min=1, max=MAX_PAGE, help="Page size.")] = 50,
    offset: Annotated[int, typer.Option(min=0, help="Failures to skip.")] = 0,
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
    if record is None:
        fail(f"no failure record has the id {failure_id!r}", EXIT_FAILED)
    if as_json:
        print_json(serial.jsonable(record))
    else:
        show(stdout_console(), record)


def failures_table(page: FailurePage) -> Table:
    """One page of failures, a row each."""
    table = Table(title="failures", title_justify="left")
    for column in ("failure_id", "received_at", "contract_ref", "root_cause"):
        table.add_column(column, no_wrap=True)
    table.add_column("fields", overflow="fold")
    table.add_column("explanation", overflow="fold")
    for record in page.items:
        table.add_row(
            record.failure_id,
            timestamp(record.received_at),
            plain(record.contract_ref),
            record.root_cause.value,
            plain(", ".join(path or "(payload)" for path in record.fields)),
            plain(truncate(headline(record), EXPLANATION_WIDTH)),
        )
    return table


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
    console.print(details(_source(record), title=plain("source")))
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
    ]
    if record.conflicts_with is not None:
        rows.append(("conflicts with", record.conflicts_with))
    return rows


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
