"""``sigma-aetl failures classes``: the stored failures grouped into classes, one row per problem.

Registered under ``failures`` by ``cli/app.py``; the filters are those of ``failures list`` (declared once
in ``failures_cmd.py``) with ``--field`` a normalised path and ``--producer`` a producer label.
"""

from typing import Annotated

import typer
from rich.table import Table

from sigma_aetl.cli.errors import operational_errors
from sigma_aetl.cli.failures_cmd import ContractOption, Instant, JsonOption, RootCauseOption, VersionOption
from sigma_aetl.cli.render import plain, print_json, stdout_console, timestamp, truncate
from sigma_aetl.cli.state import open_reader, settings_of
from sigma_aetl.core.classes import FailureClass
from sigma_aetl.stores.base import MAX_INTEGER, MAX_PAGE, ClassPage, ClassQuery

SIGNATURE_WIDTH = 48


def classes(
    ctx: typer.Context,
    *,
    contract: ContractOption = None,
    version: VersionOption = None,
    root_cause: RootCauseOption = None,
    field: Annotated[
        str | None, typer.Option(metavar="PATH", help="A field path of the signature, indices as [*].")
    ] = None,
    producer: Annotated[
        str | None, typer.Option(metavar="LABEL", help="A producer label (key:…, client:…, topic:…, file:…).")
    ] = None,
    since: Instant = None,
    order: Annotated[
        str, typer.Option(metavar="ORDER", help="count (most failures first) or last_seen.")
    ] = "count",
    limit: Annotated[int, typer.Option(min=1, max=MAX_PAGE, help="Page size.")] = 50,
    offset: Annotated[int, typer.Option(min=0, max=MAX_INTEGER, help="Classes to skip.")] = 0,
    as_json: JsonOption = False,
) -> None:
    """List failure classes: which failures are the same problem (contract, root cause, fields and error
    types), with counts, first and last seen and the top producer; --since is last seen at or after."""
    if order not in ("count", "last_seen"):
        raise typer.BadParameter("use count or last_seen", param_hint="--order")
    query = ClassQuery(
        contract=contract,
        version=version,
        root_cause=root_cause,
        field=field,
        producer=producer,
        since=since,
        order=order,
        limit=limit,
        offset=offset,
    )
    settings = settings_of(ctx)
    with operational_errors(settings), open_reader(settings) as store:
        page = store.query_classes(query)
    if as_json:
        print_json(page.model_dump(mode="json"))
        return
    console = stdout_console()
    console.print(classes_table(page))
    console.print(footer(page), style="dim")


def classes_table(page: ClassPage) -> Table:
    """One page of classes, a row each."""
    table = Table(title="failure classes", title_justify="left")
    for column in ("class_id", "contract_ref", "root_cause"):
        table.add_column(column, no_wrap=True)
    table.add_column("fields / error types", overflow="fold")
    table.add_column("count", justify="right", no_wrap=True)
    table.add_column("arrivals", justify="right", no_wrap=True)
    table.add_column("first seen", no_wrap=True)
    table.add_column("last seen", no_wrap=True)
    table.add_column("top producer", overflow="fold")
    for found in page.items:
        table.add_row(
            found.class_id,
            plain(found.contract_ref),
            found.root_cause.value,
            plain(truncate(signature(found), SIGNATURE_WIDTH)),
            str(found.count),
            str(found.occurrences),
            timestamp(found.first_seen),
            timestamp(found.last_seen),
            plain(top_producer(found)),
        )
    return table


def signature(found: FailureClass) -> str:
    """``items[*].sku: missing; weight_kg: greater_than``: the signature's pairs."""
    return "; ".join(f"{path or '(payload)'}: {kind}" for path, kind in found.errors) or "(none)"


def top_producer(found: FailureClass) -> str:
    """The producer with most failures in the class, and its count (``-`` when none is known)."""
    if not found.producers:
        return "-"
    label, count = min(found.producers.items(), key=lambda item: (-item[1], item[0]))
    return f"{label} ({count})"


def footer(page: ClassPage) -> str:
    """``showing 1-3 of 3 classes``."""
    if not page.items:
        return f"showing none of {page.total} classes" + (f" (offset {page.offset})" if page.offset else "")
    return f"showing {page.offset + 1}-{page.offset + len(page.items)} of {page.total} classes"
