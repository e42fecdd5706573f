"""``sigma-aetl stats``: counts of what is stored, the same object ``GET /v1/stats`` returns."""

from typing import Annotated

import typer
from rich.console import Console

from sigma_aetl.cli.errors import operational_errors
from sigma_aetl.cli.render import counts, details, print_json, stdout_console
from sigma_aetl.cli.state import open_reader, settings_of
from sigma_aetl.stores.base import Stats


def stats(
    ctx: typer.Context,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the Stats object as JSON, exactly as GET /v1/stats.")
    ] = False,
) -> None:
    """Count accepted records and failures, per contract version and per root cause."""
    settings = settings_of(ctx)
    with operational_errors(settings), open_reader(settings) as store:
        result = store.stats()
    if as_json:
        print_json(result.model_dump(mode="json"))
    else:
        show(stdout_console(), result)


def show(console: Console, result: Stats) -> None:
    """The counts as tables."""
    console.print(
        details(
            [
                ("accepted records", str(result.accepted_total)),
                ("failure records", str(result.failures_total)),
            ]
        )
    )
    console.print(counts("accepted by contract", "contract", result.accepted_by_contract))
    console.print(counts("failures by contract", "contract", result.failures_by_contract))
    console.print(counts("failures by root cause", "root cause", result.failures_by_root_cause))
