"""``sigma-aetl failures explain ID_OR_CLASS``: the deterministic diagnosis of a failure or a failure class.

Reads the store and the contracts, writes nothing. Exit codes: 0 diagnosed, 1 no failure or class has that
id, 2 the command could not run.
"""

from typing import Annotated

import typer
from rich.console import Console, RenderableType
from rich.table import Table

from sigma_aetl.cli.errors import EXIT_FAILED, fail, operational_errors
from sigma_aetl.cli.render import details, plain, print_json, stdout_console
from sigma_aetl.cli.state import load_contracts, open_reader, settings_of
from sigma_aetl.core.diagnosis import Diagnosis, Drift, WouldPassAs
from sigma_aetl.core.nearmiss import NearMiss
from sigma_aetl.ingest.diagnosis import CLASS_PREFIX, diagnose


def explain(
    ctx: typer.Context,
    subject: Annotated[
        str, typer.Argument(metavar="ID_OR_CLASS", help="A failure id (fail_...) or a class id (cls_...).")
    ],
    all_contracts: Annotated[
        bool,
        typer.Option("--all-contracts", help="Also judge the payloads against every other loaded contract."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the diagnosis as JSON.")] = False,
) -> None:
    """Diagnose a failure or a failure class: its errors in words with a remediation hint each, the other
    contract versions its raw payloads pass (judged again, read-only), near-miss fields, and for a class
    its drift (when it appeared; per producer, one that changed or a new one). The same on every run.

    Exit codes: 0 diagnosed, 1 no failure or class has that id, 2 the command could not run.
    """
    settings = settings_of(ctx)
    with operational_errors(settings):
        registry = load_contracts(settings)
        with open_reader(settings) as store:
            found = diagnose(store, registry, subject, all_contracts=all_contracts, limits=settings.limits)
    if found is None:
        kind = "failure class" if subject.startswith(CLASS_PREFIX) else "failure record"
        fail(f"no {kind} has the id {subject!r}", EXIT_FAILED)
    if as_json:
        print_json(found.model_dump(mode="json"))
    else:
        show(stdout_console(), found)


def show(console: Console, found: Diagnosis) -> None:
    """The diagnosis for a person: facts, summary, errors with hints, would-pass-as, near misses, drift."""
    facts: list[tuple[str, RenderableType]] = [
        ("subject", found.subject),
        ("class", found.class_id),
        ("contract as addressed", plain(found.contract_ref)),
        ("root cause", found.root_cause.value),
    ]
    console.print(details(facts, title=plain(f"diagnosis of {found.id}")))
    console.print(plain(found.summary), soft_wrap=True)
    console.print(_errors(found))
    console.print(_passing(found.would_pass_as))
    if found.near_misses:
        console.print(_misses(found.near_misses))
    if found.drift is not None:
        console.print(_drift(found.drift))


def _errors(found: Diagnosis) -> Table:
    table = Table(title=f"{len(found.errors)} error(s), in words", title_justify="left")
    table.add_column("path", overflow="fold")
    table.add_column("type", overflow="fold")
    table.add_column("explanation", overflow="fold", ratio=1)
    table.add_column("what to change", overflow="fold", ratio=1)
    for error in found.errors:
        table.add_row(
            plain(error.path or "(payload)"), plain(error.type), plain(error.explanation), error.hint
        )
    return table


def _passing(passing: WouldPassAs) -> Table:
    rows: list[tuple[str, RenderableType]] = [
        ("tried", plain(", ".join(passing.tried) or "(no other version)")),
        ("judged again", str(passing.judged)),
        (
            "passes",
            plain(", ".join(f"{p.contract} ({p.passed}/{p.judged})" for p in passing.passes) or "none"),
        ),
        *((f"not judged: {item.failure_id}", plain(item.reason)) for item in passing.not_judged),
        ("finding", plain(passing.words)),
    ]
    return details(rows, title=plain("would pass as"))


def _misses(misses: list[NearMiss]) -> Table:
    table = Table(title="near misses: probably renamed", title_justify="left")
    for name in ("missing", "sent instead", "why"):
        table.add_column(name, overflow="fold")
    for miss in misses:
        why = "case or separators" if miss.reason == "case_or_separators" else f"{miss.distance} edit(s)"
        table.add_row(plain(miss.missing), plain(miss.unexpected), why)
    return table


def _drift(drift: Drift) -> Table:
    table = Table(title=plain(f"drift: {drift.words}"), title_justify="left")
    for name in ("producer", "failures", "accepted", "first accepted", "verdict"):
        table.add_column(name, overflow="fold")
    for item in drift.producers:
        since = item.first_accepted.isoformat(timespec="seconds") if item.first_accepted else "-"
        table.add_row(
            plain(item.producer), str(item.failures), str(item.accepted), since, _VERDICTS[item.verdict]
        )
    return table


_VERDICTS = {
    "changed": "a producer that changed",
    "new": "a new producer",
    "unknown": "unknown (no contract to compare)",
}
