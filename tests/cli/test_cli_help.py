"""Every command's ``--help``: flags shown bare, options by their metavar, no type placeholders."""

import re
from collections.abc import Iterator
from typing import Any

import pytest
import typer

from cli_support import Cli
from sigma_aetl.cli.app import app
from sigma_aetl.core.taxonomy import RootCause

PLACEHOLDER = re.compile(r"<[^>\s]+(?: [^>\s]+)?>")  # <bool>, <int range>, <ContractRef>, <path>, ...


def commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """The path of every command and group under ``command``, itself included."""
    yield path
    for name, subcommand in sorted(getattr(command, "commands", {}).items()):
        yield from commands(subcommand, (*path, name))


EVERY_COMMAND = list(commands(typer.main.get_command(app)))


def test_the_walk_finds_every_command() -> None:
    """The walk below covers the root, the groups and their commands (guarding the walk itself)."""
    for path in [(), ("init",), ("serve",), ("stats",), ("failures", "list"), ("contracts", "try")]:
        assert path in EVERY_COMMAND


@pytest.mark.parametrize("path", EVERY_COMMAND, ids=lambda path: " ".join(path) or "sigma-aetl")
def test_help_shows_no_type_placeholders(cli: Cli, path: tuple[str, ...]) -> None:
    """``--help`` of every command succeeds and shows no ``<type>`` beside any parameter."""
    result = cli.invoke(*path, "--help", env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Usage: sigma-aetl" in result.stdout
    assert PLACEHOLDER.findall(result.stdout) == []
    assert re.search(r"--help\s{2,}Show this message", result.stdout)


def help_row(cli: Cli, option: str, *path: str) -> str:
    """The help line of ``option`` in ``path``'s help (wide, so that it is one line)."""
    output = cli.invoke(*path, "--help", env={"COLUMNS": "250"}).stdout
    [row] = [line for line in output.splitlines() if re.search(rf"│ {re.escape(option)}\b", line)]
    return row


def test_flags_show_bare_and_options_their_metavar_and_real_default(cli: Cli) -> None:
    """``--json`` shows nothing beside it; ``--port`` shows PORT, its variable and its real default."""
    assert re.search(r"--json\s{2,}Print", help_row(cli, "--json", "stats"))
    port = help_row(cli, "--port", "serve")
    assert re.search(r"--port\s+PORT \[0<=x<=65535\]\s+Listen port", port)
    assert "[env SIGMA_AETL_PORT; default: 8000]" in port
    store = help_row(cli, "--store")
    assert "--store            URL" in store
    assert "default: sqlite:///data/sigma-aetl.db" in store


def test_root_cause_help_lists_the_taxonomy(cli: Cli) -> None:
    """``failures list --help`` names every root cause ``--root-cause`` accepts."""
    output = " ".join(cli.invoke("failures", "list", "--help", env={"COLUMNS": "250"}).stdout.split())
    for cause in RootCause:
        assert cause.value in output


def test_a_bad_root_cause_is_refused_listing_the_taxonomy(cli: Cli) -> None:
    """An unknown ``--root-cause`` is a usage error (exit 2) that lists every valid value."""
    result = cli.invoke("failures", "list", "--root-cause", "bogus", env={"COLUMNS": "250"})
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert "'bogus' is not a root cause; use one of: unrouted, unknown_contract" in message
    assert all(cause.value in message for cause in RootCause)
