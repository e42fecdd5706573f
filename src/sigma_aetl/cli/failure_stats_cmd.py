"""``sigma-aetl failures stats``: stored failures over time, one row per group, with a bar and a sparkline.

Registered under ``failures`` by ``cli/app.py``. It reads the store's per-minute roll-ups
(``Store.failure_analytics``, docs/observability.md), so it costs the same however much is stored:
``--by root_cause|field|version|producer|class``, over ``[--since, --until)`` (ages such as ``24h``,
``7d``, ``30m`` before now, or ISO 8601 instants) in ``--bucket`` minute, hour or day. Each row's bar is
as wide as its count is large against the largest group's; its sparkline shows the group's counts per
bucket, oldest first. ``--json`` prints the ``FailureAnalytics`` answer.
"""

from datetime import UTC, datetime, timedelta
from typing import Annotated, get_args

import typer
from pydantic import ValidationError
from rich.table import Table

from sigma_aetl.cli.errors import fail, operational_errors
from sigma_aetl.cli.failures_cmd import ContractOption, JsonOption, VersionOption
from sigma_aetl.cli.params import parse_moment
from sigma_aetl.cli.render import plain, print_json, stdout_console, timestamp
from sigma_aetl.cli.state import open_reader, settings_of
from sigma_aetl.core.analytics import (
    MAX_GROUPS,
    Bucket,
    FailureAnalytics,
    FailureAnalyticsQuery,
    FailureGroup,
)

BAR_WIDTH = 30
SPARKS = "▁▂▃▄▅▆▇█"
"""A bucket's height in a sparkline, none to the series' largest (an empty bucket is a space)."""
SPARK_WIDTH = 48
"""Most buckets one sparkline shows (the latest): a day of hours fits, a week of hours is cut."""
GROUPS = ", ".join(get_args(FailureGroup))
BUCKETS = ", ".join(get_args(Bucket))


def stats(
    ctx: typer.Context,
    *,
    by: Annotated[
        str, typer.Option("--by", metavar="GROUP", help=f"What one row counts: {GROUPS}.")
    ] = "root_cause",
    since: Annotated[
        datetime | None,
        typer.Option(
            parser=parse_moment, metavar="WHEN", help="Start (inclusive): 24h, 7d, 30m ago or an ISO instant."
        ),
    ] = None,
    until: Annotated[
        datetime | None,
        typer.Option(parser=parse_moment, metavar="WHEN", help="End (exclusive), as --since; default: now."),
    ] = None,
    bucket: Annotated[str, typer.Option(metavar="BUCKET", help=f"Width of one bucket: {BUCKETS}.")] = "hour",
    contract: ContractOption = None,
    version: VersionOption = None,
    limit: Annotated[
        int, typer.Option(min=1, max=MAX_GROUPS, help="Groups shown; the rest are `other`.")
    ] = 10,
    as_json: JsonOption = False,
) -> None:
    """Count stored failures over time by root cause, field, version, producer or class (default: the last
    24 hours, by hour), one row per group with a bar and a sparkline per bucket."""
    query = _query(
        by=by, since=since, until=until, bucket=bucket, contract=contract, version=version, limit=limit
    )
    settings = settings_of(ctx)
    with operational_errors(settings), open_reader(settings) as store:
        answer = store.failure_analytics(query)
    if as_json:
        print_json(answer.model_dump(mode="json"))
        return
    console = stdout_console()
    console.print(stats_table(answer))
    console.print(footer(answer), style="dim")


def _query(
    *,
    by: str,
    since: datetime | None,
    until: datetime | None,
    bucket: str,
    contract: str | None,
    version: int | None,
    limit: int,
) -> FailureAnalyticsQuery:
    """The store's query; a bad value or window is a usage error (exit code 2) saying which."""
    if by not in get_args(FailureGroup):
        raise typer.BadParameter(f"{by!r} is not a group; use one of: {GROUPS}", param_hint="--by")
    if bucket not in get_args(Bucket):
        raise typer.BadParameter(f"{bucket!r} is not a bucket; use one of: {BUCKETS}", param_hint="--bucket")
    if version is not None and contract is None:
        raise typer.BadParameter("a version needs its --contract", param_hint="--version")
    end = until or datetime.now(UTC)
    start = since or end - timedelta(hours=24)
    try:
        return FailureAnalyticsQuery(
            group_by=by,
            since=start,
            until=end,
            bucket=bucket,
            contract=contract,
            version=version,
            limit=limit,
        )
    except ValidationError as exc:
        reasons = "; ".join(error["msg"].removeprefix("Value error, ") for error in exc.errors())
        fail(f"the window cannot be used: {reasons}")


def stats_table(answer: FailureAnalytics) -> Table:
    """One row per group: its total, a bar against the largest group and a sparkline per bucket."""
    table = Table(title=f"failures by {answer.group_by}, per {answer.bucket}", title_justify="left")
    table.add_column(answer.group_by, overflow="fold")
    table.add_column("failures", justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    table.add_column(f"per {answer.bucket}", no_wrap=True)
    largest = max((series.total for series in answer.series), default=0)
    for series in answer.series:
        name = plain(series.group or "(payload)")  # a field group: an error on the payload as a whole
        table.add_row(name, str(series.total), bar(series.total, largest), sparkline(series.counts))
    return table


def bar(count: int, largest: int, width: int = BAR_WIDTH) -> str:
    """``count`` as a bar of at most ``width`` cells, ``largest`` filling them all (a count above zero
    always shows at least one cell)."""
    if count <= 0 or largest <= 0:
        return ""
    return "█" * max(1, round(width * count / largest))


def sparkline(counts: list[int], width: int = SPARK_WIDTH) -> str:
    """The latest ``width`` counts as one character each, from a space (none) to █ (the largest)."""
    shown = counts[-width:]
    top = max(shown, default=0)
    if top <= 0:
        return " " * len(shown)
    steps = len(SPARKS) - 1
    return "".join(" " if n <= 0 else SPARKS[min(steps, round(steps * n / top))] for n in shown)


def footer(answer: FailureAnalytics) -> str:
    """``6 failures from 2024-05-01 12:00:00 UTC, 3 buckets of an hour``."""
    if not answer.buckets:
        return "no buckets"
    width = {"minute": "a minute", "hour": "an hour", "day": "a day"}[answer.bucket]
    start = timestamp(answer.buckets[0])
    return f"{answer.total} failures from {start}, {len(answer.buckets)} buckets of {width}"
