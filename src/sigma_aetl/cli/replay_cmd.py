"""``sigma-aetl replay``: stored failures re-judged against a target version, the passing ones stored as its
records with lineage (see docs/replay.md and :mod:`sigma_aetl.ingest.replay`).

Exit codes: 0 the replay finished and every selected failure is now a record of the target (replayed, or
stored already with the same content), or none was selected; 1 it finished, but some still fail, conflict
with a stored identity, or were stored truncated; 2 it could not run (an unknown target, a draft without
``--allow-draft``, an edited release, bad options, the store unavailable). Running it again is always safe.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console, RenderableType
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from sigma_aetl.cli.errors import EXIT_FAILED, EXIT_OK, operational_errors
from sigma_aetl.cli.failures_cmd import ContractOption, FieldOption, Instant, RootCauseOption, VersionOption
from sigma_aetl.cli.render import counts, details, plain, print_json, stderr_console, stdout_console
from sigma_aetl.cli.state import load_contracts, settings_of, warn_about_lock
from sigma_aetl.ingest.replay import Replayer, ReplayRequest, target_of
from sigma_aetl.stores import open_store
from sigma_aetl.stores.base import ReplayRun

Advance = Callable[[ReplayRun], None]


def replay(
    ctx: typer.Context,
    *,
    to: Annotated[str, typer.Option("--to", metavar="NAME@VERSION", help="The target version.")],
    contract: ContractOption = None,
    version: VersionOption = None,
    root_cause: RootCauseOption = None,
    field: FieldOption = None,
    class_id: Annotated[
        str | None, typer.Option("--class", metavar="CLASS_ID", help="A failure class id (cls_…).")
    ] = None,
    since: Instant = None,
    until: Instant = None,
    allow_draft: Annotated[bool, typer.Option(help="Replay into a draft (unreleased) version.")] = False,
    dry_run: Annotated[bool, typer.Option(help="Judge and count; write nothing.")] = False,
    batch_size: Annotated[int, typer.Option(min=1, max=10_000, help="Failures per batch.")] = 500,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run as JSON.")] = False,
) -> None:
    """Re-judge the stored raw bytes of the selected failures against --to; store those that pass now as
    records of it, with lineage, and give their failures a resolution (failures are never modified).

    The same replay again writes nothing new. Exit codes: 0 every selected failure is now a record of the
    target, 1 some still fail, conflict or are truncated, 2 the replay could not run.
    """
    settings = settings_of(ctx)
    request = ReplayRequest(
        to=to,
        contract=contract,
        version=version,
        root_cause=root_cause,
        field=field,
        class_id=class_id,
        since=since,
        until=until,
        allow_draft=allow_draft,
        dry_run=dry_run,
    )
    with operational_errors(settings):
        registry = load_contracts(settings)
        warn_about_lock(registry)
        target = target_of(registry, request.to, allow_draft=request.allow_draft)
        store = open_store(settings.store_url, read_only=request.dry_run)
        try:
            replayer = Replayer(store, target, settings.limits, batch_size=batch_size)
            run = replayer.start(request)
            with _progress(None if as_json else stderr_console(), run) as advance:
                run = replayer.run(run, keep=not request.dry_run, progress=advance)
        finally:
            store.close()
    if as_json:
        print_json(run.model_dump(mode="json"))
    else:
        show_run(stdout_console(), run)
    raise typer.Exit(EXIT_OK if _complete(run) else EXIT_FAILED)


def _complete(run: ReplayRun) -> bool:
    summary = run.summary
    return summary.still_failing == summary.conflicts == summary.not_replayable == 0


@contextmanager
def _progress(console: Console | None, run: ReplayRun) -> Iterator[Advance]:
    """A transient progress bar by failures read, on a terminal only (a pipe or --json shows none)."""
    if console is None or not console.is_terminal:
        yield lambda _run: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(f"replaying into {run.target}", total=run.total or None)
        yield lambda now: progress.update(task, completed=now.progress)


def show_run(console: Console, run: ReplayRun) -> None:
    """The run for a person: what it did, then the new decisions of the failures still failing."""
    summary = run.summary
    rows: list[tuple[str, RenderableType]] = [
        ("replay", plain(run.replay_id)),
        ("target", plain(f"{run.target} ({run.target_fingerprint[:19]})")),
        ("selected", str(summary.selected)),
        ("would pass", str(summary.would_pass)),
        ("replayed" if not run.dry_run else "would replay", str(summary.replayed)),
        ("duplicates", f"{summary.duplicates} (stored already, same content)"),
        ("still failing", f"{summary.still_failing} ({_errors(summary.still_failing_errors)} now)"),
        ("conflicts", f"{summary.conflicts} (identity stored with other content)"),
        ("not replayable", f"{summary.not_replayable} (stored truncated)"),
    ]
    title = "dry run: nothing was written" if run.dry_run else f"replayed into {run.target}"
    console.print(details(rows, title=plain(title)))
    if summary.still_failing:
        console.print(counts("still failing", "root cause", summary.still_failing_by_root_cause))


def _errors(count: int) -> str:
    return f"{count} error" if count == 1 else f"{count} errors"
