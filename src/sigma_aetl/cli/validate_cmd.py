"""``sigma-aetl validate``: one payload against one contract version, decided and shown, never stored."""

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console, Group, RenderableType
from rich.json import JSON

from sigma_aetl.cli.errors import EXIT_FAILED, EXIT_OK, operational_errors
from sigma_aetl.cli.params import ContractRef, parse_ref
from sigma_aetl.cli.render import details, errors_table, plain, print_json, status_text, stdout_console
from sigma_aetl.cli.state import require_contract, settings_of
from sigma_aetl.core import serial, validator
from sigma_aetl.core.decision import Decision

STDIN = "-"


def validate(
    ctx: typer.Context,
    ref: Annotated[
        ContractRef,
        typer.Argument(parser=parse_ref, metavar="NAME@VERSION", help="The contract to check against."),
    ],
    source: Annotated[
        str, typer.Argument(metavar="FILE", help="The payload file, read byte for byte; - reads stdin.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the decision as JSON.")] = False,
) -> None:
    """Validate one payload against a contract version, exactly as the gateway would; store nothing.

    Exit codes: 0 the payload PASSED, 1 it FAILED, 2 the command could not run (no such file, unknown
    contract, missing or broken contracts directory).
    """
    settings = settings_of(ctx)
    with operational_errors(settings):
        contract = require_contract(settings, str(ref))
        raw = read_payload(source)
    decision = validator.validate(contract, raw, settings.limits)
    if as_json:
        print_json(serial.jsonable(decision))
    else:
        show_decision(stdout_console(), decision, str(ref))
    raise typer.Exit(EXIT_OK if decision.passed else EXIT_FAILED)


def read_payload(source: str) -> bytes:
    """The exact bytes of a file, or of stdin for ``-``; raises OSError."""
    if source == STDIN:
        return sys.stdin.buffer.read()
    return Path(source).read_bytes()


def show_decision(console: Console, decision: Decision, ref: str) -> None:
    """The decision for a person: status, contract, root cause, then the errors or the canonical record."""
    rows: list[tuple[str, RenderableType]] = [
        ("status", status_text(decision.status)),
        ("contract", ref),
        ("fingerprint", decision.fingerprint or "-"),
    ]
    if decision.root_cause is not None:
        rows.append(("root cause", f"{decision.root_cause.value} (stage {decision.stage})"))
    console.print(details(rows))
    console.print(_body(decision))


def _body(decision: Decision) -> RenderableType:
    if decision.data is not None:
        return Group(plain("canonical record:"), JSON.from_data(decision.data, ensure_ascii=True))
    return errors_table(decision.errors)
