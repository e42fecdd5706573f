"""The ``sigma-aetl`` Typer app: global options, the commands, and :func:`main` (the console script)."""

from typing import Annotated

import typer

from sigma_aetl import __version__
from sigma_aetl.cli import (
    advisor_cmd,
    audit_cmd,
    classes_cmd,
    contracts_cmd,
    explain_cmd,
    failure_stats_cmd,
    failures_cmd,
    ingest_cmd,
    init_cmd,
    kafka_cmd,
    keys_cmd,
    records_cmd,
    replay_cmd,
    serve_cmd,
    stats_cmd,
    validate_cmd,
    worker_admin_cmd,
    worker_cmd,
)
from sigma_aetl.cli.params import ContractsOption, StoreOption
from sigma_aetl.cli.root import RootGroup
from sigma_aetl.cli.state import remember_option

app = typer.Typer(
    name="sigma-aetl",
    cls=RootGroup,
    help="SIGMA-AETL: a contract-first ingestion gateway. Every event is checked against an explicit, "
    "versioned data contract; valid events are stored once, invalid ones as failure records. "
    "New here? `sigma-aetl init` creates example contracts and sample events, and says what to run next.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode="markdown",
)
app.command("init")(init_cmd.init)
app.command("serve")(serve_cmd.serve)
app.command("ingest")(ingest_cmd.ingest)
app.command("validate")(validate_cmd.validate)
app.add_typer(contracts_cmd.app, name="contracts")
failures_cmd.app.command("classes")(classes_cmd.classes)
failures_cmd.app.command("explain")(explain_cmd.explain)
failures_cmd.app.command("stats")(failure_stats_cmd.stats)
app.add_typer(failures_cmd.app, name="failures")
app.add_typer(records_cmd.app, name="records")
app.command("stats")(stats_cmd.stats)
worker_app = typer.Typer(invoke_without_command=True, no_args_is_help=False)
worker_app.callback()(worker_cmd.worker)
worker_app.command("partitions")(worker_admin_cmd.partitions)
worker_app.command("resume")(worker_admin_cmd.resume)
app.add_typer(worker_app, name="worker")
app.add_typer(keys_cmd.app, name="keys")
app.command("audit")(audit_cmd.audit_store)
app.add_typer(kafka_cmd.app, name="kafka")
app.add_typer(advisor_cmd.app, name="advisor")
app.command("replay")(replay_cmd.replay)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"sigma-aetl {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    store: StoreOption = None,
    contracts: ContractsOption = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Remember the global options given here; a command builds the settings when it needs them."""
    remember_option(ctx, "store", store)
    remember_option(ctx, "contracts", contracts)


def main() -> None:
    """The ``sigma-aetl`` console script."""
    app(prog_name="sigma-aetl")
