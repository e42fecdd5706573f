"""``sigma-aetl contracts lock|verify``: release contract versions, and check the releases (for CI).

Exit codes: 0 done (``verify``: every released version matches the lock), 1 a released version was edited
or deleted (``lock`` then writes nothing), 2 the command could not run.
"""

from pathlib import Path
from typing import Annotated, Any

import typer

from sigma_aetl.cli.errors import EXIT_FAILED, fail, operational_errors
from sigma_aetl.cli.params import parse_ref
from sigma_aetl.cli.render import plain, print_json, stdout_console
from sigma_aetl.cli.state import load_contracts, settings_of
from sigma_aetl.contracts import immutability
from sigma_aetl.contracts.immutability import Violation, report
from sigma_aetl.contracts.lock import ReleaseState, lock_path, write_lock
from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core.contract import Contract

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def lock(
    ctx: typer.Context,
    refs: Annotated[
        list[str] | None,
        typer.Argument(metavar="[NAME@VERSION]...", help="The versions to release.", show_default=False),
    ] = None,
    every_draft: Annotated[bool, typer.Option("--all", help="Release every draft version.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Release contract versions: write each one's fingerprint and definition to contracts.lock.json.

    A released version is immutable: the gateway (serve, ingest, worker) refuses to start once its file
    changes, and says what changed. Versions already released are left as they are. Nothing is written
    while a released version no longer matches the lock (exit code 1).
    """
    settings = settings_of(ctx)
    if not refs and not every_draft:
        fail("name the versions to release (NAME@VERSION ...), or pass --all to release every draft")
    with operational_errors(settings):
        registry = load_contracts(settings)
        _refuse_violations(registry, immutability.verify(registry), as_json)
        chosen = _chosen(registry, refs or [])
        fresh = [c for c in chosen if registry.state(c) is ReleaseState.DRAFT]
        path = write_lock(registry.lock.releasing(fresh), settings.contracts_dir) if fresh else None
    _print_released(
        fresh, [c for c in chosen if c not in fresh], path or lock_path(settings.contracts_dir), as_json
    )


def _chosen(registry: Registry, refs: list[str]) -> list[Contract]:
    if not refs:
        return [c for c in registry.all() if registry.state(c) is ReleaseState.DRAFT]
    return [registry.require(str(parse_ref(ref))) for ref in dict.fromkeys(refs)]


def _refuse_violations(registry: Registry, violations: list[Violation], as_json: bool) -> None:
    if not violations:
        return
    if as_json:
        print_json({"released": [], "already_released": [], "violations": [v.as_json() for v in violations]})
    else:
        stdout_console().print(plain(report(registry, violations)))
    raise typer.Exit(EXIT_FAILED)


def _print_released(fresh: list[Contract], already: list[Contract], path: Path, as_json: bool) -> None:
    if as_json:
        print_json(
            {
                "lock_file": str(path),
                "released": [_entry(c) for c in fresh],
                "already_released": [_entry(c) for c in already],
            }
        )
        return
    console = stdout_console()
    for contract in fresh:
        console.print(plain(f"released {contract.ref} ({contract.source}) {contract.fingerprint}"))
    for contract in already:
        console.print(plain(f"already released: {contract.ref}"))
    if not fresh and not already:
        console.print("nothing to release: there is no draft version")
    elif fresh:
        console.print(plain(f"wrote {path}; commit it with the contracts"))


def _entry(contract: Contract) -> dict[str, str]:
    return {"ref": contract.ref, "fingerprint": contract.fingerprint, "source": contract.source}


def verify(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Check that every released version still matches the lock (for CI).

    Exit code 0 when all match, 1 when a released version was edited or its file deleted (each is named,
    with what changed), 2 when the contracts cannot be loaded.
    """
    settings = settings_of(ctx)
    with operational_errors(settings):
        registry = load_contracts(settings)
    violations = immutability.verify(registry)
    if as_json:
        print_json(_verify_json(registry, violations))
    else:
        _print_verify(registry, violations)
    raise typer.Exit(EXIT_FAILED if violations else 0)


def _verify_json(registry: Registry, violations: list[Violation]) -> dict[str, Any]:
    states = {c.ref: registry.state(c) for c in registry.all()}
    return {
        "ok": not violations,
        "lock_file": str(registry.lock.path),
        "released": [r.ref for _, r in sorted(registry.lock.releases.items())],
        "drafts": [ref for ref, state in states.items() if state is ReleaseState.DRAFT],
        "violations": [violation.as_json() for violation in violations],
    }


def _print_verify(registry: Registry, violations: list[Violation]) -> None:
    console = stdout_console()
    if violations:
        console.print(plain(report(registry, violations)))
        return
    drafts = [c.ref for c in registry.all() if registry.state(c) is ReleaseState.DRAFT]
    console.print(plain(f"ok: {len(registry.lock.releases)} released version(s) match {registry.lock.path}"))
    if drafts:
        console.print(plain(f"draft (not released): {', '.join(drafts)}"))
