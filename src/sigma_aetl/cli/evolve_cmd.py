"""``sigma-aetl contracts diff|check|new-version``: evolve a contract by new versions, never in place.

Exit codes: ``check`` 0 compatible, 1 incompatible; ``diff`` and ``new-version`` 0; every command 2 when it
cannot run (unknown contract, broken contracts directory, a version file already there).
"""

from typing import Annotated

import typer

from sigma_aetl.cli.errors import EXIT_FAILED, EXIT_OK, operational_errors
from sigma_aetl.cli.params import ContractRef, parse_ref
from sigma_aetl.cli.render import plain, print_json, stdout_console
from sigma_aetl.cli.state import load_contracts, settings_of
from sigma_aetl.contracts.evolution.compatibility import Mode, Report
from sigma_aetl.contracts.evolution.compatibility import check as check_compatibility
from sigma_aetl.contracts.evolution.diff import Change, diff_definitions
from sigma_aetl.contracts.evolution.scaffold import Scaffold
from sigma_aetl.contracts.evolution.scaffold import new_version as scaffold
from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core.contract import Contract

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
OldRef = Annotated[
    ContractRef, typer.Argument(parser=parse_ref, metavar="OLD", help="The earlier version, NAME@VERSION.")
]
NewRef = Annotated[
    ContractRef, typer.Argument(parser=parse_ref, metavar="NEW", help="The later version, NAME@VERSION.")
]

MODE_MEANING = {
    Mode.BACKWARD: "every event valid under {old} must stay valid under {new}",
    Mode.FORWARD: "every event valid under {new} must be valid under {old}",
    Mode.FULL: "both: events of either version must be valid under the other",
}


def diff(ctx: typer.Context, old: OldRef, new: NewRef, as_json: JsonOption = False) -> None:
    """Show what changed between two versions: fields and rules added, removed and changed (type,
    required, constraints, messages), identity and backend. Works across backends."""
    settings = settings_of(ctx)
    with operational_errors(settings):
        registry = load_contracts(settings)
        before, after = registry.require(str(old)), registry.require(str(new))
    changes = diff_definitions(before.definition(), after.definition())
    if as_json:
        print_json(
            {
                "old": before.ref,
                "new": after.ref,
                "old_fingerprint": before.fingerprint,
                "new_fingerprint": after.fingerprint,
                "identical": before.fingerprint == after.fingerprint,
                "changes": [change.as_json() for change in changes],
            }
        )
    else:
        _print_diff(registry, before, after, changes)


def _print_diff(registry: Registry, before: Contract, after: Contract, changes: list[Change]) -> None:
    console = stdout_console()
    console.print(plain(f"{_label(registry, before)} → {_label(registry, after)}: {len(changes)} change(s)"))
    for change in changes:
        console.print(plain(f"  {change.describe()}"))


def _label(registry: Registry, contract: Contract) -> str:
    return f"{contract.ref} ({contract.backend}, {registry.state(contract).value})"


def check(
    ctx: typer.Context,
    old: OldRef,
    new: NewRef,
    mode: Annotated[
        Mode,
        typer.Option(
            "--mode",
            case_sensitive=False,
            help="backward: OLD's events stay valid under NEW; forward: NEW's events are valid under OLD; "
            "full: both.",
        ),
    ] = Mode.BACKWARD,
    as_json: JsonOption = False,
) -> None:
    """List every breaking change from OLD to NEW with a one-line explanation; exit 1 when incompatible.

    Breaking: a new required field, a removed field under a closed content model, a narrowed type, a
    tightened constraint or rule, an enum that lost values, a changed identity, ...
    """
    settings = settings_of(ctx)
    with operational_errors(settings):
        registry = load_contracts(settings)
        before, after = registry.require(str(old)), registry.require(str(new))
    verdict = check_compatibility(before.definition(), after.definition(), mode)
    if as_json:
        print_json(verdict.as_json())
    else:
        _print_check(verdict)
    raise typer.Exit(EXIT_OK if verdict.compatible else EXIT_FAILED)


def _print_check(verdict: Report) -> None:
    console = stdout_console()
    meaning = MODE_MEANING[verdict.mode].format(old=verdict.old, new=verdict.new)
    console.print(plain(f"{verdict.old} → {verdict.new}, {verdict.mode.value} ({meaning}):"))
    if verdict.compatible:
        console.print("compatible", style="green")
        return
    console.print(f"INCOMPATIBLE: {len(verdict.problems)} breaking change(s)", style="bold red")
    for problem in verdict.problems:
        console.print(plain(f"  [{problem.direction}] {problem.kind}: {problem.explanation}"))


def new_version(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="The contract to add a version to.")],
    as_json: JsonOption = False,
) -> None:
    """Scaffold the next draft version (vN+1) of a contract from its latest, in the same format.

    Only the new file is written (never over an existing one); edit it, compare it (diff, check, try),
    then release it with `contracts lock NAME@N+1`.
    """
    settings = settings_of(ctx)
    with operational_errors(settings):
        created = scaffold(load_contracts(settings), name, settings.contracts_dir)
    if as_json:
        print_json(_scaffold_json(created))
    else:
        _print_scaffold(created)


def _scaffold_json(created: Scaffold) -> dict[str, str]:
    return {
        "ref": created.ref,
        "state": "draft",
        "source": created.source,
        "path": str(created.path),
        "from": created.origin,
        "from_state": created.origin_state.value,
    }


def _print_scaffold(created: Scaffold) -> None:
    console = stdout_console()
    console.print(plain(f"created {created.path}: {created.ref} (draft), from {created.origin}"))
    if created.origin_state.value == "draft":
        console.print(plain(f"note: {created.origin} is itself still a draft"))
    console.print(
        plain(
            f"next: edit it; sigma-aetl contracts diff {created.origin} {created.ref}; "
            f"contracts check {created.origin} {created.ref}; contracts try {created.ref}; "
            f"then contracts lock {created.ref}"
        )
    )
