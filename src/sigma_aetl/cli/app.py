"""The ``sigma-aetl`` Typer app: global options, the commands, and :func:`main` (the console script)."""

from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from sigma_aetl import __version__
from sigma_aetl.cli import (
    contracts_cmd,
    failures_cmd,
    ingest_cmd,
    records_cmd,
    serve_cmd,
    stats_cmd,
    validate_cmd,
    worker_cmd,
)
from sigma_aetl.cli.errors import fail
from sigma_aetl.settings import Settings

app = typer.Typer(
    name="sigma-aetl",
    help="SIGMA-AETL: a contract-first ingestion gateway. Every event is checked against an explicit, "
    "versioned data contract; valid events are stored once, invalid ones as failure records.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode="markdown",
)
app.command("serve")(serve_cmd.serve)
app.command("ingest")(ingest_cmd.ingest)
app.command("validate")(validate_cmd.validate)
app.add_typer(contracts_cmd.app, name="contracts")
app.add_typer(failures_cmd.app, name="failures")
app.add_typer(records_cmd.app, name="records")
app.command("stats")(stats_cmd.stats)
app.command("worker")(worker_cmd.worker)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"sigma-aetl {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    store: Annotated[
        str | None,
        typer.Option(
            "--store",
            metavar="URL",
            help="Store URL, e.g. sqlite:///data/sigma-aetl.db. "
            "Env SIGMA_AETL_STORE_URL; default from settings.",
        ),
    ] = None,
    contracts: Annotated[
        Path | None,
        typer.Option(
            "--contracts",
            metavar="DIR",
            help="Contracts directory. Env SIGMA_AETL_CONTRACTS_DIR; default ./contracts.",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Build the settings once; every command reads them from the context."""
    ctx.obj = build_settings(store_url=store, contracts_dir=contracts)


def build_settings(**options: Any) -> Settings:
    """Settings from the environment, overridden only by the options actually given on the command line."""
    overrides = {name: value for name, value in options.items() if value is not None}
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        fail(f"invalid settings (command-line options or SIGMA_AETL_* variables): {problems}")


def main() -> None:
    """The ``sigma-aetl`` console script."""
    app(prog_name="sigma-aetl")
