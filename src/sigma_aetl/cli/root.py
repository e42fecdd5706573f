"""The root command group: the global options after any command too, and help without type placeholders.

Global options. ``--store`` and ``--contracts`` are declared once (``params.py``) and taken by the root
command. When the root resolves a command, every command below it gets a copy of the root's own options,
so ``sigma-aetl stats --store URL`` works as ``sigma-aetl --store URL stats`` does; each value given is
remembered (``state.remember_option``), the command's last, so it wins over the root's. ``init`` takes
none: it uses no settings, and an option it silently ignored would mislead.

Help. Typer shows a type beside every parameter (``--json <bool>``, ``--limit <int range>``,
``NAME@VERSION <ContractRef>``). Here a flag shows nothing (``--json``), an option its metavar (``--store
URL``; the upper-cased name when it declares none, or its choices), and an argument only its name.
"""

from copy import copy
from typing import Any

from typer.core import TyperArgument, TyperGroup, TyperOption

from sigma_aetl.cli.params import GLOBAL_SETTINGS
from sigma_aetl.cli.state import remember_option

WITHOUT_GLOBAL_OPTIONS = frozenset({"init"})
GLOBAL_PANEL = "Global options (also accepted before the command)"


class RootGroup(TyperGroup):
    """The ``sigma-aetl`` group: see the module docstring."""

    def get_params(self, ctx: Any) -> list[Any]:
        """The root's own parameters, shown without type placeholders."""
        params = super().get_params(ctx)
        for param in params:
            tidy(param)
        return params

    def resolve_command(self, ctx: Any, args: list[str]) -> tuple[str | None, Any, list[str]]:
        """The command named by ``args``, prepared (global options, help display) before it parses."""
        name, command, rest = super().resolve_command(ctx, args)
        if command is not None:
            prepare(command, ctx, [] if name in WITHOUT_GLOBAL_OPTIONS else self.global_options())
        return name, command, rest

    def global_options(self) -> list[TyperOption]:
        """The root's own definitions of the global options."""
        return [p for p in self.params if isinstance(p, TyperOption) and p.name in GLOBAL_SETTINGS]


def remember(ctx: Any, param: Any, value: Any) -> Any:
    """Callback of a command's copy of a global option: record the value given."""
    remember_option(ctx, param.name, value)
    return value


def prepare(command: Any, ctx: Any, options: list[TyperOption]) -> None:
    """Give ``command`` (and every command under it) the global options and a tidy help; idempotent."""
    subcommands = getattr(command, "commands", None)
    if subcommands is not None:
        for subcommand in subcommands.values():
            prepare(subcommand, ctx, options)
    else:
        names = {param.name for param in command.params}
        for option in options:
            if option.name not in names:
                command.params.append(_command_copy(option))
    for param in command.get_params(ctx):  # the help option included
        tidy(param)


def _command_copy(option: TyperOption) -> TyperOption:
    """The root's option, for a command: not passed to the command's function, remembered instead."""
    copied = copy(option)
    copied.expose_value = False
    copied.callback = remember
    copied.rich_help_panel = GLOBAL_PANEL
    return copied


class _Flag(TyperOption):
    """A flag: its name says it all."""

    def display_type_rich(self, ctx: Any) -> str | None:
        """Nothing beside the flag."""
        return None


class _Valued(TyperOption):
    """An option that takes a value: shown by its metavar."""

    def display_type_rich(self, ctx: Any) -> str | None:
        """The metavar; the choices when it has none and takes one of a few; else the upper-cased name."""
        if self.metavar is not None:
            return self.metavar
        choices = self.type_descriptor.choices if self.type_descriptor.is_choice else None
        if choices:
            return "|".join(str(getattr(choice, "value", choice)) for choice in choices)
        return (self.name or "value").upper()


class _Argument(TyperArgument):
    """An argument: its name (its metavar) is already shown in the name column."""

    def display_type_rich(self, ctx: Any) -> str | None:
        """Nothing more beside the argument."""
        return None


def tidy(param: Any) -> None:
    """Show ``param`` in help without a type placeholder (see the module docstring)."""
    if type(param) is TyperOption:
        param.__class__ = _Flag if param.is_flag else _Valued
    elif type(param) is TyperArgument:
        param.__class__ = _Argument
