"""``sigma-aetl advisor run | status | request``: the optional advisory AI (docs/diagnostics.md).

The advisor asks an Ollama server (SIGMA_AETL_ADVISOR_URL) about failure classes, or single failures,
from a durable queue in the store, and stores its advisories apart from the failures. It never decides:
ingestion is the same with it, without it, and whatever it answers.

Exit codes: 0 done; 1 ``request``: no failure has that id; 2 the command could not run (no advisor URL,
a store error, contracts that do not load).
"""

import asyncio
from contextlib import closing, suppress
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from sigma_aetl.advisor.background import advisor_store_url
from sigma_aetl.advisor.client import OllamaModel, probe
from sigma_aetl.advisor.runner import Advisor, Summary, utc_now
from sigma_aetl.cli.errors import EXIT_FAILED, fail, operational_errors
from sigma_aetl.cli.render import details, plain, print_json, stdout_console, timestamp
from sigma_aetl.cli.state import load_contracts, open_reader, settings_of
from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core.advisories import AdvisoryTarget
from sigma_aetl.settings import Settings
from sigma_aetl.stores import Store, open_store

app = typer.Typer(
    help="The optional advisory AI: explanations of failure classes from a local Ollama model, stored "
    "apart from the failures. Advisory only: it never changes a decision (see docs/diagnostics.md).",
    no_args_is_help=True,
)


@app.command("run")
def run(
    ctx: typer.Context,
    once: Annotated[
        bool, typer.Option("--once", help="Drain what is queued now (waiting for retries), then exit.")
    ] = False,
) -> None:
    """Enqueue every failure class (or failure, with SIGMA_AETL_ADVISOR_SCOPE=failure) that has no job,
    and drain the queue through the model; without --once, keep doing so until interrupted. Several may
    run on one store: a job is leased to one advisor at a time."""
    settings = _with_advisor(settings_of(ctx))
    assert settings.advisor_url is not None
    with operational_errors(settings):
        registry = load_contracts(settings)
        store = open_store(advisor_store_url(settings.store_url))
    with operational_errors(settings), closing(store), suppress(KeyboardInterrupt):
        summary = asyncio.run(_drain(settings, store, registry, once=once))
        if summary is not None:
            stdout_console().print(summary_table(summary))


async def _drain(settings: Settings, store: Store, registry: Registry, *, once: bool) -> Summary | None:
    """One run (``once``), or runs until interrupted."""
    assert settings.advisor_url is not None
    model = OllamaModel(settings.advisor_url, settings.advisor_timeout)
    advisor = Advisor(settings, store, registry, model)
    try:
        if once:
            return await advisor.run_once()
        await advisor.run(asyncio.Event())  # until Ctrl-C cancels it
        return None
    finally:
        await model.close()


def summary_table(summary: Summary) -> Table:
    """What one run did, and the queue after it."""
    outcomes = summary.outcomes
    rows = [
        ("enqueued", Text(str(summary.enqueued))),
        ("advised", Text(str(outcomes["ok"]), style="green")),
        ("advisory errors", Text(str(outcomes["error"]), style="red" if outcomes["error"] else "")),
        ("retries queued", Text(str(outcomes["retried"]))),
        ("leases lost", Text(str(outcomes["lost"]))),
        ("breaker", Text(summary.breaker, style="yellow" if summary.breaker != "closed" else "")),
        ("queue", Text(_queue_text(summary.queue))),
        *[("note", plain(note)) for note in summary.notes],
    ]
    return details(rows, Text("advisor run --once", style="bold"))


@app.command("status")
def status(
    ctx: typer.Context,
    errors: Annotated[int, typer.Option(min=0, max=100, metavar="N", help="Recent errors shown.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print the status as JSON.")] = False,
) -> None:
    """The queue's depth per state, the server as it answers now (the breaker of a running advisor is its
    own: this probes the server instead), and the most recent advisory errors."""
    settings = settings_of(ctx)
    with operational_errors(settings), open_reader(settings) as store:
        queue = store.advisory_queue()
        recent = store.recent_advisory_errors(errors)
    server = "no advisor configured (SIGMA_AETL_ADVISOR_URL)"
    if settings.advisor_url is not None:
        server = probe(settings.advisor_url, settings.advisor_model)
    if as_json:
        shown = [advisory.model_dump(mode="json") for advisory in recent]
        print_json({"queue": queue, "server": server, "recent_errors": shown})
        return
    console = stdout_console()
    console.print(details([("queue", Text(_queue_text(queue))), ("server", plain(server))]))
    table = Table(title=f"{len(recent)} recent advisory error(s)", title_justify="left")
    for column in ("when", "target", "attempts", "error"):
        table.add_column(column, overflow="fold")
    for advisory in recent:
        target = f"{advisory.target.kind} {advisory.target.id}"
        table.add_row(timestamp(advisory.created_at), target, str(advisory.attempts), plain(advisory.error))
    console.print(table)


@app.command("request")
def request(
    ctx: typer.Context,
    failure_id: Annotated[str, typer.Argument(metavar="FAILURE_ID", help="The failure to advise on.")],
) -> None:
    """Queue one failure for an advisory of its own (the default scope advises per class). Idempotent: a
    failure queued or advised already keeps its job."""
    settings = settings_of(ctx)
    target = AdvisoryTarget(kind="failure", id=failure_id)
    with operational_errors(settings), closing(open_store(advisor_store_url(settings.store_url))) as store:
        if store.get_failure(failure_id) is None:
            fail(f"no failure has the id {failure_id!r} (failures list shows them)", EXIT_FAILED)
        added = store.enqueue_advisories([target], utc_now())
        job = store.get_advisory_job(target)
    assert job is not None
    said = "queued" if added else f"already has a job ({job.state})"
    stdout_console().print(f"failure {failure_id} {said}; `sigma-aetl advisor run --once` drains the queue")


def _with_advisor(settings: Settings) -> Settings:
    if settings.advisor_url is None:
        fail("no advisor is configured: set SIGMA_AETL_ADVISOR_URL to an Ollama server (http://HOST:11434)")
    return settings


def _queue_text(queue: dict[str, int]) -> str:
    return ", ".join(f"{state} {count}" for state, count in queue.items())
