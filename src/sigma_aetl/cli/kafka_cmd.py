"""``sigma-aetl kafka reset-offsets``: move the worker's consumer group on a topic, to consume it again.

Exactly one target: ``--to-earliest``, ``--to-offset N`` or ``--to-datetime ISO``; every partition of the
topic, or ``--partition P``. Refused while the group has an active member. Re-consuming writes nothing
new (ids are deterministic): the worker counts each message again as a duplicate. Exit codes: 0 reset
(or, with ``--dry-run``, shown), 2 refused or could not run.
"""

from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from sigma_aetl.cli.errors import fail, operational_errors
from sigma_aetl.cli.params import parse_instant
from sigma_aetl.cli.render import plain, print_json, stdout_console
from sigma_aetl.cli.state import settings_of
from sigma_aetl.kafka.offsets import ResetReport, ResetTarget, admin_properties, reset_offsets

app = typer.Typer(help="The Kafka worker's consumer group: re-consume a topic.", no_args_is_help=True)
_ENV = "SIGMA_AETL_KAFKA_"


@app.command("reset-offsets")
def reset(
    ctx: typer.Context,
    *,
    topic: Annotated[str, typer.Option(metavar="TOPIC", help="The topic whose offsets to move.")],
    partition: Annotated[
        int | None, typer.Option(metavar="P", min=0, help="Only this partition (default: every one).")
    ] = None,
    to_earliest: Annotated[
        bool, typer.Option("--to-earliest", help="Back to the earliest offset the topic keeps.")
    ] = False,
    to_offset: Annotated[
        int | None, typer.Option("--to-offset", metavar="N", min=0, help="To offset N on each partition.")
    ] = None,
    to_datetime: Annotated[
        datetime | None,
        typer.Option(
            "--to-datetime",
            parser=parse_instant,
            metavar="ISO",
            help="To the first message at or after this time (ISO 8601; UTC when no offset).",
        ),
    ] = None,
    group: Annotated[
        str | None, typer.Option(metavar="GROUP", help=f"Consumer group id. Env {_ENV}GROUP_ID.")
    ] = None,
    bootstrap_servers: Annotated[
        str | None,
        typer.Option(metavar="HOST:PORT", help=f"Kafka brokers. Env {_ENV}BOOTSTRAP_SERVERS."),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the new offsets; commit nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Move the worker's consumer group on TOPIC to the earliest offset, an offset, or a time, so the next
    worker run consumes from there.

    The group must have no active member: stop every worker of the group first. Nothing is duplicated by
    re-consuming: every message's record or failure is already stored under the same id, and the worker
    counts it as a duplicate.

    Exit codes: 0 reset (or shown, with --dry-run), 2 refused (an active member, an unknown topic or
    partition) or could not run.
    """
    target = _target(to_earliest, to_offset, to_datetime)
    settings = settings_of(ctx)
    properties = admin_properties(settings)
    if bootstrap_servers is not None:
        properties["bootstrap.servers"] = bootstrap_servers
    chosen = group or settings.kafka_group_id
    with operational_errors(settings):
        report = reset_offsets(properties, chosen, topic, target, partition=partition, dry_run=dry_run)
    if as_json:
        print_json(report.model_dump(mode="json"))
    else:
        show_reset(stdout_console(), report)


def _target(earliest: bool, offset: int | None, at: datetime | None) -> ResetTarget:
    given = [
        name
        for name, value in (("--to-earliest", earliest), ("--to-offset", offset), ("--to-datetime", at))
        if value not in (None, False)
    ]
    if len(given) != 1:
        fail("give exactly one of --to-earliest, --to-offset N, --to-datetime ISO")
    if earliest:
        return ResetTarget("earliest")
    if offset is not None:
        return ResetTarget("offset", offset=offset)
    return ResetTarget("datetime", at=at)


def show_reset(console: Console, report: ResetReport) -> None:
    """The partitions moved, before and after, and whether it was committed."""
    done = "reset" if report.applied else "dry run, nothing committed"
    table = Table(title=plain(f"group {report.group} → {report.target} ({done})"), title_justify="left")
    for column in ("topic", "partition", "committed before", "resumes from"):
        table.add_column(column, justify="left" if column == "topic" else "right")
    for row in report.partitions:
        before = "none" if row.before is None else str(row.before)
        table.add_row(plain(row.topic), str(row.partition), before, str(row.after))
    console.print(table)
