"""``sigma-aetl contracts try``: a dry run of a candidate version over the events stored for another.

Reads the store, writes nothing. Exit codes: 0 every stored event would pass, 1 some would fail, 2 the
command could not run, or there was nothing to try (no stored event of that version).
"""

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from sigma_aetl.cli.errors import EXIT_FAILED, EXIT_OK, fail, operational_errors
from sigma_aetl.cli.params import ContractRef, parse_ref
from sigma_aetl.cli.render import counts, details, plain, print_json, stdout_console
from sigma_aetl.cli.state import load_contracts, settings_of, warn_about_lock
from sigma_aetl.contracts.registry import Registry
from sigma_aetl.ingest.trial import TrialReport, trial
from sigma_aetl.stores import open_store


def try_version(
    ctx: typer.Context,
    candidate: Annotated[
        ContractRef,
        typer.Argument(parser=parse_ref, metavar="CANDIDATE", help="The version to try, NAME@VERSION."),
    ],
    against: Annotated[
        ContractRef | None,
        typer.Option(
            "--against",
            parser=parse_ref,
            metavar="NAME@VERSION",
            help="Whose stored events to replay. Default: the version just below the candidate.",
        ),
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=100_000, help="Stored events read at a time.")] = 500,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Validate the stored raw events of an earlier version (accepted and failed) against a candidate.

    Reports how many would pass or fail, by root cause and by field; writes nothing.

    Exit codes: 0 every event would pass, 1 some would fail, 2 nothing to try (no stored event of that
    version) or the command could not run.
    """
    settings = settings_of(ctx)
    with operational_errors(settings):
        registry = load_contracts(settings)
        warn_about_lock(registry)  # trying a candidate reads and writes nothing: an edited release only warns
        contract = registry.require(str(candidate))
        source = against or _previous(registry, contract.name, contract.version)
        version = _version(source)
        store = open_store(settings.store_url, read_only=True)
        try:
            batches = store.raw_payloads(source.name, version, batch_size=batch_size)
            report = trial(contract, str(source), batches, settings.limits)
        finally:
            store.close()
    _require_events(report)
    if as_json:
        print_json(report.model_dump(mode="json"))
    else:
        show_trial(stdout_console(), report)
    raise typer.Exit(EXIT_OK if report.would_fail == 0 else EXIT_FAILED)


def _require_events(report: TrialReport) -> None:
    """Exit 2 when no stored event could be tried: a dry run over nothing proves nothing."""
    if report.payloads == 0:
        fail(
            f"nothing to try {report.candidate} against: the store holds no events of {report.against}. "
            f"Store some first (sigma-aetl ingest {report.against} FILE), or name another version "
            "with --against NAME@VERSION"
        )
    if report.payloads == report.skipped_truncated:
        fail(
            f"nothing to try {report.candidate} against: all {report.payloads} stored events of "
            f"{report.against} were stored truncated (over the request limit), so none can be judged again"
        )


def _previous(registry: Registry, name: str, version: int) -> ContractRef:
    earlier = [known for known in registry.versions(name) if known < version]
    if not earlier:
        fail(f"{name}@{version} has no earlier version; name one with --against NAME@VERSION")
    return ContractRef(name, str(earlier[-1]))


def _version(ref: ContractRef) -> int:
    if not ref.version.isdigit():
        fail(f"{ref}: a stored version is a number, e.g. {ref.name}@1")
    return int(ref.version)


def show_trial(console: Console, report: TrialReport) -> None:
    """The dry run for a person: totals, outcome by stored origin, then failures by cause and field."""
    console.print(
        details(
            [
                ("candidate", plain(f"{report.candidate} ({report.candidate_fingerprint[:19]})")),
                ("replayed", plain(f"stored events of {report.against}")),
                ("events", str(report.payloads)),
                ("would pass", str(report.would_pass)),
                ("would fail", str(report.would_fail)),
                ("skipped", f"{report.skipped_truncated} (stored truncated)"),
            ],
            title=plain("dry run: nothing was written"),
        )
    )
    console.print(_origins(report))
    console.print(counts("would fail, by root cause", "root cause", report.by_root_cause))
    console.print(_fields(report))


def _origins(report: TrialReport) -> Table:
    table = Table(title=f"by stored outcome under {report.against}", title_justify="left")
    for column in ("stored as", "events", "would pass", "would fail"):
        table.add_column(column, justify="left" if column == "stored as" else "right")
    for name, row in report.by_origin.items():
        table.add_row(name, str(row.total), str(row.would_pass), str(row.would_fail))
    return table


def _fields(report: TrialReport) -> Table:
    table = Table(title="would fail, by field", title_justify="left")
    for column in ("field", "root cause", "events"):
        table.add_column(column, justify="right" if column == "events" else "left")
    for path, causes in report.by_field.items():
        for cause, number in causes.items():
            table.add_row(plain(path), cause, str(number))
    return table
