"""``sigma-aetl contracts ...``: the contract versions the gateway loads, and their governance.

``list`` and ``show`` are here; ``lock``/``verify`` (releases), ``diff``/``check``/``new-version`` (evolution)
and ``try`` (a dry run over stored events) live in their own modules and are registered below.
"""

from typing import Annotated

import typer
from rich.console import Console
from rich.json import JSON
from rich.table import Table
from rich.text import Text

from sigma_aetl.cli import evolve_cmd, release_cmd, trial_cmd
from sigma_aetl.cli.errors import operational_errors
from sigma_aetl.cli.params import ContractRef, parse_ref
from sigma_aetl.cli.render import details, plain, print_json, short_fingerprint, stdout_console
from sigma_aetl.cli.state import load_contracts, settings_of
from sigma_aetl.contracts.lock import ReleaseState
from sigma_aetl.contracts.registry import Registry
from sigma_aetl.contracts.summary import ContractDetail, summaries
from sigma_aetl.core.contract import Contract
from sigma_aetl.core.rules import Rule

app = typer.Typer(
    help="The contract versions in the contracts directory: list, show, release, verify, evolve, try.",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


@app.command("list")
def list_contracts(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List every contract version: ref, state (draft/released), backend, identity, rules, fingerprint and
    source file. A released version edited since its release shows as `modified`."""
    settings = settings_of(ctx)
    with operational_errors(settings):
        registry = load_contracts(settings)
    if as_json:
        print_json([summary.model_dump(mode="json") for summary in summaries(registry)])
    else:
        stdout_console().print(contracts_table(registry))


@app.command("show")
def show_contract(
    ctx: typer.Context,
    ref: Annotated[
        ContractRef, typer.Argument(parser=parse_ref, metavar="NAME@VERSION", help="The version to show.")
    ],
    as_json: JsonOption = False,
) -> None:
    """Show one contract version: state, description, identity, rules, fingerprint and JSON Schema."""
    settings = settings_of(ctx)
    with operational_errors(settings):
        registry = load_contracts(settings)
        contract = registry.require(str(ref))
    if as_json:
        print_json(ContractDetail.of(contract, registry.state(contract)).model_dump(mode="json"))
    else:
        show(stdout_console(), contract, registry.state(contract))


app.command("lock")(release_cmd.lock)
app.command("verify")(release_cmd.verify)
app.command("diff")(evolve_cmd.diff)
app.command("check")(evolve_cmd.check)
app.command("new-version")(evolve_cmd.new_version)
app.command("try")(trial_cmd.try_version)


def contracts_table(registry: Registry) -> Table:
    """The table of ``contracts list``."""
    contracts = registry.all()
    table = Table(title=f"{len(contracts)} contract version(s)", title_justify="left")
    for column in ("ref", "state", "backend", "identity", "rules", "fingerprint", "source"):
        table.add_column(column, justify="right" if column == "rules" else "left")
    for contract in contracts:
        table.add_row(
            plain(contract.ref),
            state_text(registry.state(contract)),
            contract.backend,
            plain(", ".join(contract.identity) or "(whole record)"),
            str(len(contract.rules)),
            short_fingerprint(contract.fingerprint),
            plain(contract.source),
        )
    return table


def state_text(state: ReleaseState) -> Text:
    """``released`` in green, ``draft`` in yellow, ``modified`` in bold red."""
    styles = {ReleaseState.RELEASED: "green", ReleaseState.DRAFT: "yellow", ReleaseState.MODIFIED: "bold red"}
    return Text(state.value, style=styles[state])


def show(console: Console, contract: Contract, state: ReleaseState) -> None:
    """``contracts show`` for a person."""
    console.print(
        details(
            [
                ("state", state_text(state)),
                ("description", plain(contract.description or "-")),
                ("backend", contract.backend),
                ("identity", plain(", ".join(contract.identity) or "(whole record)")),
                ("unknown fields", "allowed" if contract.allow_extra else "rejected"),
                ("fingerprint", contract.fingerprint),
                ("source", plain(contract.source)),
            ],
            title=plain(contract.ref),
        )
    )
    console.print(rules_table(contract.rules))
    console.print(plain("JSON Schema:"))
    console.print(JSON.from_data(contract.json_schema, ensure_ascii=True))


def rules_table(rules: tuple[Rule, ...]) -> Table:
    """A contract's business rules: name, expression and why the rule exists."""
    table = Table(title=f"{len(rules)} business rule(s)", title_justify="left")
    for column in ("name", "rule", "message"):
        table.add_column(column, overflow="fold")
    for rule in rules:
        table.add_row(plain(rule.name), plain(rule.describe()), plain(rule.message))
    return table
