"""``sigma-aetl stats``: counts of what is stored, the same object ``GET /v1/stats`` returns."""

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from sigma_aetl.cli.errors import operational_errors
from sigma_aetl.cli.render import counts, details, plain, print_json, stdout_console
from sigma_aetl.cli.state import open_reader, settings_of
from sigma_aetl.stores.base import Stats


def stats(
    ctx: typer.Context,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the Stats object as JSON, exactly as GET /v1/stats.")
    ] = False,
) -> None:
    """Count accepted records and failures, per contract version and per root cause: failure records, and
    their arrivals (a failure identified only by its bytes counts each time it arrived)."""
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
                ("failure arrivals", str(result.failure_occurrences_total)),
            ]
        )
    )
    console.print(counts("accepted by contract", "contract", result.accepted_by_contract))
    by_contract = (result.failures_by_contract, result.failure_occurrences_by_contract)
    console.print(failure_counts("failures by contract", "contract", *by_contract))
    by_cause = (result.failures_by_root_cause, result.failure_occurrences_by_root_cause)
    console.print(failure_counts("failures by root cause", "root cause", *by_cause))


def failure_counts(title: str, column: str, records: dict[str, int], arrivals: dict[str, int]) -> Table:
    """Failure records and their arrivals by key, or a table saying there are none."""
    table = Table(title=title, title_justify="left")
    table.add_column(column)
    table.add_column("records", justify="right")
    table.add_column("arrivals", justify="right")
    for key, count in records.items():
        table.add_row(plain(key), str(count), str(arrivals.get(key, count)))
    if not records:
        table.add_row(Text("none", style="dim"), "0", "0")
    return table
