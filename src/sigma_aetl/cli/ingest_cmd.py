"""``sigma-aetl ingest``: stream a JSON Lines file through the pipeline, one store transaction per batch.

Exit code 0 once the file is processed, however many events failed: failures are stored data, not errors.
Exit code 2 when the command cannot run (no such file, unknown contract, broken contracts, store error).
"""

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from pydantic import BaseModel, Field
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from sigma_aetl.cli import heap
from sigma_aetl.cli.errors import fail, operational_errors
from sigma_aetl.cli.params import ContractRef, parse_ref
from sigma_aetl.cli.render import details, plain, print_json, stdout_console
from sigma_aetl.cli.state import load_contracts, open_gateway, settings_of
from sigma_aetl.errors import StoreError
from sigma_aetl.ingest.files import FileSource
from sigma_aetl.ingest.outcome import Tally
from sigma_aetl.settings import Settings

Advance = Callable[[int], None]
"""Report progress: the number of bytes of the file read so far."""


class IngestSummary(BaseModel):
    """What one ``ingest`` run did; printed as a table, or as this JSON object with ``--json``."""

    file: str = Field(description="The file as given on the command line.")
    contract: str = Field(
        description="The contract version every line was addressed to.", examples=["shipment@1"]
    )
    events_read: int = Field(description="Non-blank lines read, each one event.")
    accepted: int = Field(description="Accepted records newly stored by this run.")
    failed: int = Field(description="Failure records newly stored by this run.")
    duplicates: int = Field(description="Events already stored (earlier, or earlier in this run).")
    accepted_duplicates: int = Field(description="Duplicates of an accepted record.")
    failure_duplicates: int = Field(description="Duplicates of a failure record.")
    blank_lines_skipped: int = Field(description="Empty or whitespace-only lines, which carry no event.")
    elapsed_seconds: float
    events_per_second: float


def ingest(
    ctx: typer.Context,
    ref: Annotated[
        ContractRef,
        typer.Argument(parser=parse_ref, metavar="NAME@VERSION", help="The contract every line is for."),
    ],
    path: Annotated[Path, typer.Argument(metavar="FILE", help="A JSON Lines file: one event per line.")],
    transaction_size: Annotated[
        int | None,
        typer.Option(
            "--transaction-size",
            min=1,
            max=100_000,
            help="Events per store transaction. Default from settings (SIGMA_AETL_TRANSACTION_SIZE).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as one JSON object.")] = False,
) -> None:
    """Validate and store every line of a JSON Lines file against one contract version.

    Each line is one event; blank lines are skipped. Valid events are stored once, invalid ones as
    failure records; re-ingesting a file writes nothing new.

    Exit codes: 0 the file was processed (even if events failed), 2 the command could not run.
    """
    settings = settings_of(ctx)
    console = stdout_console()
    with operational_errors(settings):
        summary = run(_sized(settings, transaction_size), ref, path, _progress_console(console, as_json))
    if as_json:
        print_json(summary.model_dump(mode="json"))
    else:
        show_summary(console, summary, ref)


def _sized(settings: Settings, transaction_size: int | None) -> Settings:
    """The settings with ``--transaction-size`` applied: one value for the source and the pipeline."""
    if transaction_size is None:
        return settings
    return settings.model_copy(update={"transaction_size": transaction_size})


def run(settings: Settings, ref: ContractRef, path: Path, console: Console | None = None) -> IngestSummary:
    """Ingest ``path``; with a console, show a progress bar on it. Raises SigmaError or OSError."""
    _require_file(path)
    # Refuse an operator's typo before the store is opened (and its file created): the command line's
    # mistake is not an event's fault, so it must not become failure records.
    registry = load_contracts(settings)
    registry.require(str(ref))
    # Records keep the absolute path: a relative one means nothing once the shell that ran this is gone.
    source = FileSource(path.resolve(), ref.name, ref.version, batch_size=settings.transaction_size)
    tally = Tally()
    started = time.perf_counter()
    with open_gateway(settings, registry) as gateway, _progress(console, path) as advance:
        heap.settle()
        try:
            for outcomes in gateway.pipeline.process_stream(source.batches()):
                tally.add(outcomes)
                advance(source.bytes_read)
        except StoreError as exc:
            message = f"{exc} (stopped after {tally.events} events were stored; re-running the file is safe)"
            raise type(exc)(message) from exc
    return _summary(path, ref, tally, source.skipped, time.perf_counter() - started)


def _require_file(path: Path) -> None:
    if not path.exists():
        fail(f"{path}: no such file")
    if path.is_dir():
        fail(f"{path}: is a directory, not a JSON Lines file")


def _summary(path: Path, ref: ContractRef, tally: Tally, skipped: int, elapsed: float) -> IngestSummary:
    return IngestSummary(
        file=str(path),
        contract=str(ref),
        events_read=tally.events,
        accepted=tally.accepted,
        failed=tally.failed,
        duplicates=tally.duplicates,
        accepted_duplicates=tally.accepted_duplicates,
        failure_duplicates=tally.failure_duplicates,
        blank_lines_skipped=skipped,
        elapsed_seconds=round(elapsed, 3),
        events_per_second=round(tally.events / elapsed, 1) if elapsed > 0 else 0.0,
    )


def stdout_is_terminal() -> bool:
    """Whether a person is watching stdout (a progress bar in a pipe or a log file is noise)."""
    return sys.stdout.isatty()


def _progress_console(console: Console, as_json: bool) -> Console | None:
    return console if stdout_is_terminal() and not as_json else None


@contextmanager
def _progress(console: Console | None, path: Path) -> Iterator[Advance]:
    """A transient progress bar by bytes read, or a no-op without a console."""
    if console is None:
        yield lambda _done: None
        return
    columns = (
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(f"ingesting {plain(path.name).plain}", total=path.stat().st_size)
        yield lambda done: progress.update(task, completed=done)


def show_summary(console: Console, summary: IngestSummary, ref: ContractRef) -> None:
    """The summary as a readable table, and where to look when something failed."""
    rows = [
        ("events read", str(summary.events_read)),
        ("accepted (new)", str(summary.accepted)),
        ("failed (new)", str(summary.failed)),
        ("duplicates", _duplicates(summary)),
        ("blank lines skipped", str(summary.blank_lines_skipped)),
        ("elapsed", f"{summary.elapsed_seconds:.3f} s ({summary.events_per_second:,.1f} events/s)"),
    ]
    console.print(details(rows, title=plain(f"ingested {summary.file} as {summary.contract}")))
    if summary.failed:
        hint = f"sigma-aetl failures list --contract {ref.name} --version {ref.version}"
        console.print(plain(f"see the failures with: {hint}"), style="dim")


def _duplicates(summary: IngestSummary) -> str:
    accepted, failures = summary.accepted_duplicates, summary.failure_duplicates
    return f"{summary.duplicates} ({accepted} accepted, {failures} failures)"
