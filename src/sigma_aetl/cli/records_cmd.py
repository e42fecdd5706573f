"""``sigma-aetl records export``: a contract's accepted records as JSON Lines, for a pipeline's next step.

The store is opened read-only and read a page at a time (MAX_PAGE records) through the same cursors
``GET /v1/records`` hands out, so memory stays bounded whatever the store holds. Records go to stdout or
``--output``; the summary and the cursor to resume from go to stderr, also when the export stops on an
error, so a later run continues with ``--cursor`` instead of starting over.

Exit codes: 0 every matching record was written, 2 the command could not run (it says how far it got).
"""

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, BinaryIO

import typer
from pydantic import ValidationError

from sigma_aetl.cli import heap
from sigma_aetl.cli.errors import fail, operational_errors
from sigma_aetl.cli.params import parse_instant
from sigma_aetl.cli.render import stderr_console
from sigma_aetl.cli.state import open_reader, settings_of
from sigma_aetl.core import serial
from sigma_aetl.core.canonical import canonical_bytes
from sigma_aetl.core.records import AcceptedRecord
from sigma_aetl.errors import SigmaError
from sigma_aetl.stores import Store
from sigma_aetl.stores.base import MAX_PAGE, RecordQuery

app = typer.Typer(help="Accepted records: export them for the next step of a pipeline.", no_args_is_help=True)

Instant = Annotated[
    datetime | None,
    typer.Option(parser=parse_instant, metavar="ISO", help="ISO 8601 date or date-time; UTC when no offset."),
]


class Format(StrEnum):
    """Output formats."""

    JSONL = "jsonl"


class Progress:
    """How far an export got: records written, and the cursor that continues after the last of them."""

    def __init__(self, cursor: str | None) -> None:
        self.records = 0
        self.cursor = cursor


@app.command("export")
def export(
    ctx: typer.Context,
    *,
    contract: Annotated[str, typer.Option(metavar="NAME", help="Contract name (required).")],
    version: Annotated[
        int | None, typer.Option(metavar="N", min=1, max=2**63 - 1, help="Only this version.")
    ] = None,
    since: Instant = None,
    until: Instant = None,
    output_format: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.JSONL,
    output: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Write here (replacing it) instead of stdout.")
    ] = None,
    cursor: Annotated[
        str | None,
        typer.Option(metavar="C", help="Continue after an earlier export (the cursor it printed)."),
    ] = None,
    data_only: Annotated[
        bool, typer.Option("--data-only", help="Write only each record's canonical data, not the record.")
    ] = False,
) -> None:
    """Write every accepted record of a contract, one JSON object per line, in the store's stream order.

    Each line is the record as GET /v1/records/{id} returns it (or its data alone, with --data-only).
    Filters combine with AND (--since inclusive, --until exclusive, on received_at). The cursor printed
    at the end continues with the records stored since; the same filters must be given with it.

    Exit codes: 0 done, 2 the command could not run.
    """
    settings = settings_of(ctx)
    query = _query(contract, version, since, until, cursor)
    progress = Progress(cursor)
    started = time.monotonic()
    with operational_errors(settings), open_reader(settings) as store, _sink(output) as sink:
        heap.settle()  # a long run of short-lived records, as in ingest
        try:
            write_records(store, query, sink, progress, data_only=data_only)
        except SigmaError:
            _report(progress, query, output, time.monotonic() - started, stopped=True)
            raise
    _report(progress, query, output, time.monotonic() - started, stopped=False)


def write_records(
    store: Store, query: RecordQuery, sink: BinaryIO, progress: Progress, *, data_only: bool = False
) -> None:
    """Write every record ``query`` streams from its cursor on, a page at a time, noting the progress."""
    while True:
        page = store.query_records(query)
        sink.write(b"".join(_line(record, data_only=data_only) for record in page.items))
        progress.records += len(page.items)
        progress.cursor = page.resume_cursor
        if page.next_cursor is None:
            return
        query = query.model_copy(update={"cursor": page.next_cursor})


def _line(record: AcceptedRecord, *, data_only: bool) -> bytes:
    return (canonical_bytes(record.data) if data_only else serial.dumps(record)) + b"\n"


def _query(
    contract: str, version: int | None, since: datetime | None, until: datetime | None, cursor: str | None
) -> RecordQuery:
    try:
        return RecordQuery(
            contract=contract, version=version, since=since, until=until, limit=MAX_PAGE, cursor=cursor
        )
    except ValidationError as exc:
        problems = "; ".join(f"--{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        fail(f"invalid options: {problems}")


@contextmanager
def _sink(output: Path | None) -> Iterator[BinaryIO]:
    """The file named (replaced), or stdout; flushed at the end either way."""
    if output is None:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    with output.open("wb") as file:
        yield file


def _report(
    progress: Progress, query: RecordQuery, output: Path | None, seconds: float, *, stopped: bool
) -> None:
    """The summary on stderr: how many records, of what, where to, and the cursor to resume from."""
    what = query.contract if query.version is None else f"{query.contract}@{query.version}"
    window = "".join(
        f", received {word} {moment.isoformat()}"
        for word, moment in (("from", query.since), ("before", query.until))
        if moment is not None
    )
    where = str(output) if output is not None else "stdout"
    verb = "stopped after exporting" if stopped else "exported"
    lines = [f"{verb} {progress.records} records of {what}{window} to {where} in {seconds:.1f} s"]
    if progress.cursor is not None:
        lines.append(f"to continue later, with the same options: --cursor {progress.cursor}")
    console = stderr_console()
    for line in lines:
        console.print(line, markup=False, highlight=False, soft_wrap=True)
