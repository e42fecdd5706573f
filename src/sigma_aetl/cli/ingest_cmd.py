"""``sigma-aetl ingest``: stream a JSON Lines file (or standard input) through the pipeline, one store
transaction per batch.

Exit code 0 once the input is processed, however many events failed: failures are stored data, not errors.
Exit code 2 when the command cannot run (no such file, an input that is not text without ``--force``,
unknown contract, broken contracts, store error). Exit code 130 after Ctrl-C: the batch in flight is
stored, and rerunning the same command finishes the input without storing anything twice.
"""

import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from pydantic import BaseModel, Field
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from sigma_aetl import logs
from sigma_aetl.cli import heap
from sigma_aetl.cli.errors import EXIT_INTERRUPTED, operational_errors
from sigma_aetl.cli.ingest_input import describe, is_stdin, opened, refuse_unless_text, stop_on_interrupt
from sigma_aetl.cli.params import ContractRef, parse_ref
from sigma_aetl.cli.render import details, plain, print_json, stderr_console, stdout_console
from sigma_aetl.cli.state import load_contracts, open_gateway, settings_of
from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core.envelope import Envelope
from sigma_aetl.errors import StoreError
from sigma_aetl.ingest.files import FileSource
from sigma_aetl.ingest.flood import guarding, thresholds_of
from sigma_aetl.ingest.outcome import Tally
from sigma_aetl.settings import Settings

Advance = Callable[[int], None]
"""Report progress: the number of bytes of the input read so far."""


class IngestSummary(BaseModel):
    """What one ``ingest`` run did; printed as a table, or as this JSON object with ``--json``."""

    file: str = Field(description="The file as given on the command line (`-` for standard input).")
    contract: str = Field(
        description="The contract version every line was addressed to.", examples=["shipment@1"]
    )
    events_read: int = Field(
        description="Events (non-blank lines) read and stored: each one accepted, failed or a duplicate."
    )
    accepted: int = Field(description="Accepted records newly stored by this run.")
    failed: int = Field(description="Failure records newly stored by this run.")
    duplicates: int = Field(description="Events already stored (earlier, or earlier in this run).")
    accepted_duplicates: int = Field(description="Duplicates of an accepted record.")
    failure_duplicates: int = Field(description="Duplicates of a failure record.")
    blank_lines_skipped: int = Field(description="Empty or whitespace-only lines, which carry no event.")
    lines_read: int = Field(description="Lines read, blank ones included.")
    last_line_stored: int | None = Field(
        description="The line of the last event stored; every event before it is stored too. "
        "Null when none was."
    )
    interrupted: bool = Field(
        description="Stopped by Ctrl-C (SIGINT) before the end of the input, after storing the batch in "
        "flight; rerunning the same command finishes the input and stores nothing twice."
    )
    elapsed_seconds: float
    events_per_second: float


def ingest(
    ctx: typer.Context,
    ref: Annotated[
        ContractRef,
        typer.Argument(parser=parse_ref, metavar="NAME@VERSION", help="The contract every line is for."),
    ],
    path: Annotated[
        Path,
        typer.Argument(
            metavar="FILE", help="A JSON Lines file: one event per line; `-` reads standard input."
        ),
    ],
    *,
    transaction_size: Annotated[
        int | None,
        typer.Option(
            "--transaction-size",
            min=1,
            max=100_000,
            help="Events per store transaction. Default from settings (SIGMA_AETL_TRANSACTION_SIZE).",
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Ingest an input that looks compressed or binary anyway; each line is judged as usual.",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as one JSON object.")] = False,
) -> None:
    """Validate and store every line of a JSON Lines file against one contract version.

    Each line is one event; blank lines are skipped. Valid events are stored once, invalid ones as
    failure records; re-ingesting a file writes nothing new. An input that looks compressed or binary is
    refused unless --force. Ctrl-C stops after the batch in flight is stored; rerunning resumes safely.

    Exit codes: 0 the input was processed (even if events failed), 2 the command could not run,
    130 interrupted by Ctrl-C.
    """
    settings = settings_of(ctx)
    console = stdout_console()
    if thresholds_of(settings).enabled:  # the guard's alert lines go to stderr, never into --json's output
        logs.configure(settings.log_level, settings.log_format)
    with operational_errors(settings):
        summary = run(
            _sized(settings, transaction_size), ref, path, _progress_console(console, as_json), force=force
        )
    if as_json:
        print_json(summary.model_dump(mode="json"))
    else:
        show_summary(console, summary, ref)
    if summary.interrupted:
        show_interrupted(summary)
        raise typer.Exit(EXIT_INTERRUPTED)


def _sized(settings: Settings, transaction_size: int | None) -> Settings:
    """The settings with ``--transaction-size`` applied: one value for the source and the pipeline."""
    if transaction_size is None:
        return settings
    return settings.model_copy(update={"transaction_size": transaction_size})


def run(
    settings: Settings, ref: ContractRef, path: Path, console: Console | None = None, *, force: bool = False
) -> IngestSummary:
    """Ingest ``path`` (``-``: standard input); with a console, show a progress bar on it.

    Raises SigmaError or OSError. A first Ctrl-C ends the run after the batch in flight is stored (the
    summary says ``interrupted``); a second one stops at once.
    """
    with opened(path) as (stream, where):
        source = FileSource(
            stream,
            ref.name,
            ref.version,
            path=where,
            max_line_bytes=settings.max_event_bytes,
            batch_size=settings.transaction_size,
        )
        # Refuse an operator's typo, or the wrong file, before the store is opened (and its file created):
        # the command line's mistake is not the events' fault, so it must not become failure records.
        registry = load_contracts(settings)
        registry.require(str(ref))
        refuse_unless_text(source, path, ref, force=force)
        return _stream(settings, registry, source, IngestRun(path, ref), console)


class IngestRun:
    """How far one run got: the tally of stored outcomes and the last line stored."""

    def __init__(self, path: Path, ref: ContractRef) -> None:
        self.path = path
        self.ref = ref
        self.tally = Tally()
        self.last_line: int | None = None
        self.interrupted = False
        self.started = time.perf_counter()

    def summary(self, source: FileSource) -> IngestSummary:
        """The summary of the run so far."""
        tally, elapsed = self.tally, time.perf_counter() - self.started
        return IngestSummary(
            file=str(self.path),
            contract=str(self.ref),
            events_read=tally.events,
            accepted=tally.accepted,
            failed=tally.failed,
            duplicates=tally.duplicates,
            accepted_duplicates=tally.accepted_duplicates,
            failure_duplicates=tally.failure_duplicates,
            blank_lines_skipped=source.skipped,
            lines_read=source.lines_read,
            last_line_stored=self.last_line,
            interrupted=self.interrupted,
            elapsed_seconds=round(elapsed, 3),
            events_per_second=round(tally.events / elapsed, 1) if elapsed > 0 else 0.0,
        )


def _stream(
    settings: Settings, registry: Registry, source: FileSource, run: IngestRun, console: Console | None
) -> IngestSummary:
    """Store every batch of ``source``; each one's outcomes are counted once it is durably stored."""
    ends: deque[int] = deque()  # the last line of each batch handed to the pipeline, in order
    with (
        open_gateway(settings, registry) as gateway,
        guarding(gateway, "file"),  # closed first: its alerts are saved before the store closes
        _progress(console, run.path) as advance,
    ):
        heap.settle()
        try:
            with stop_on_interrupt(source):
                for outcomes in gateway.pipeline.process_stream(_noting_ends(source.batches(), ends)):
                    run.tally.add(outcomes)
                    run.last_line = ends.popleft()
                    advance(source.bytes_read)
        except StoreError as exc:
            events = run.tally.events
            message = f"{exc} (stopped after {events} events were stored; re-running the file is safe)"
            raise type(exc)(message) from exc
        except KeyboardInterrupt:  # a second Ctrl-C: stopped at once, perhaps before a batch was counted
            run.interrupted = True
    run.interrupted = run.interrupted or (source.stopped and not source.exhausted)
    return run.summary(source)


def _noting_ends(batches: Iterable[Sequence[Envelope]], ends: deque[int]) -> Iterator[Sequence[Envelope]]:
    for batch in batches:
        ends.append(batch[-1].source["line"])
        yield batch


def stdout_is_terminal() -> bool:
    """Whether a person is watching stdout (a progress bar in a pipe or a log file is noise)."""
    return sys.stdout.isatty()


def _progress_console(console: Console, as_json: bool) -> Console | None:
    return console if stdout_is_terminal() and not as_json else None


@contextmanager
def _progress(console: Console | None, path: Path) -> Iterator[Advance]:
    """A transient progress bar by bytes read (without a total for a pipe), or a no-op without a console."""
    if console is None:
        yield lambda _done: None
        return
    columns = (
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
    )
    total = None if is_stdin(path) or not path.is_file() else path.stat().st_size
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(f"ingesting {plain(_name(path)).plain}", total=total)
        yield lambda done: progress.update(task, completed=done)


def _name(path: Path) -> str:
    return describe(path) if is_stdin(path) else path.name


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


def show_interrupted(summary: IngestSummary) -> None:
    """On stderr: how far an interrupted run got, and that rerunning the same command is safe."""
    last = summary.last_line_stored
    stored = "no line was stored" if last is None else f"every event up to line {last:,} is stored"
    message = (
        f"interrupted: {summary.lines_read:,} lines read; {stored} ({summary.events_read:,} events this run: "
        f"{summary.accepted:,} accepted, {summary.failed:,} failures, {summary.duplicates:,} duplicates). "
        "Rerunning the same command resumes safely: ids are deterministic, so the lines already stored "
        "count as duplicates and nothing is stored twice."
    )
    stderr_console().print(message, style="yellow", markup=False, highlight=False, soft_wrap=True)


def _duplicates(summary: IngestSummary) -> str:
    accepted, failures = summary.accepted_duplicates, summary.failure_duplicates
    return f"{summary.duplicates} ({accepted} accepted, {failures} failures)"
