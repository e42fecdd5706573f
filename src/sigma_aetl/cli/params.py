"""Command-line parameters defined once: the global options, and parsers for values that are more than a
string (``name@version`` refs, instants, root causes).

The global options (:data:`StoreOption`, :data:`ContractsOption`) are declared here once. The root command
takes them (``sigma-aetl --store URL stats``), and the root group (``root.py``) copies the root's own
definitions onto every command, so they also work after it (``sigma-aetl stats --store URL``); the value
nearest the command wins (see :func:`sigma_aetl.cli.state.settings_of`).
"""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from sigma_aetl.core.refs import ContractRef
from sigma_aetl.core.refs import parse_ref as core_parse_ref
from sigma_aetl.core.taxonomy import RootCause
from sigma_aetl.settings import Settings

__all__ = [
    "ROOT_CAUSES",
    "ContractRef",
    "ContractsOption",
    "StoreOption",
    "WatchContractsOption",
    "parse_age",
    "parse_instant",
    "parse_moment",
    "parse_ref",
    "parse_root_cause",
    "setting_help",
]


def setting_help(text: str, field: str) -> str:
    """``text`` followed by the setting's environment variable and its real default, for an option that
    overrides a setting: ``Listen port. [env SIGMA_AETL_PORT; default: 8000]``."""
    default = Settings.model_fields[field].default
    shown = "none" if default is None else str(default)
    return f"{text} [env SIGMA_AETL_{field.upper()}; default: {shown}]"


StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store",
        metavar="URL",
        help=setting_help(
            "Store URL: sqlite:///relative.db, sqlite:////absolute.db, mongodb://...", "store_url"
        ),
    ),
]
"""``--store URL``: the store every command reads or writes (setting ``store_url``)."""
ContractsOption = Annotated[
    Path | None,
    typer.Option(
        "--contracts",
        metavar="DIR",
        help=setting_help("Contracts directory (sigma-aetl init creates one).", "contracts_dir"),
    ),
]
"""``--contracts DIR``: the contracts directory (setting ``contracts_dir``)."""
WatchContractsOption = Annotated[
    float | None,
    typer.Option(
        "--watch-contracts",
        min=0,
        max=3600,
        metavar="SECONDS",
        help="Check the contract files and the lock every SECONDS and reload the contracts when one changed "
        "(SIGHUP reloads at any time). Env SIGMA_AETL_CONTRACTS_WATCH_INTERVAL; 0, the default, does not "
        "watch.",
    ),
]
"""``--watch-contracts SECONDS`` of ``serve`` and ``worker`` (setting ``contracts_watch_interval``)."""
GLOBAL_SETTINGS = {"store": "store_url", "contracts": "contracts_dir"}
"""Each global option's parameter name → the setting it overrides."""

ROOT_CAUSES = ", ".join(cause.value for cause in RootCause)
"""Every root cause of the taxonomy, in its order, for help texts and errors."""

_AGE = re.compile(r"(\d+)([wdhms])")
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
_MAX_AGE = timedelta(days=365_000)  # a thousand years: older than that is older than every timestamp here


def parse_ref(value: str) -> ContractRef:
    """``name@version`` → :class:`ContractRef`; anything else is a usage error (exit code 2)."""
    try:
        return core_parse_ref(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def parse_instant(value: str) -> datetime:
    """An ISO 8601 date or date-time; one without a UTC offset is taken as UTC."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not an ISO 8601 date or date-time (for example 2025-01-31T12:00:00Z)"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def parse_root_cause(value: str) -> RootCause:
    """A root cause of the taxonomy by its name; anything else is a usage error listing them all."""
    try:
        return RootCause(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a root cause; use one of: {ROOT_CAUSES}") from None


def parse_age(value: str) -> timedelta:
    """An age: a whole number and a unit, ``30d``, ``12h``, ``90m``, ``45s`` or ``2w``."""
    match = _AGE.fullmatch(value.strip())
    if match is None:
        raise typer.BadParameter(
            f"{value!r} is not an age: a whole number and a unit, w d h m or s (for example 30d or 12h)"
        )
    try:
        age = timedelta(**{_UNITS[match[2]]: int(match[1])})
    except OverflowError:
        age = _MAX_AGE + timedelta(days=1)
    if age > _MAX_AGE:
        raise typer.BadParameter(f"{value!r} is more than a thousand years")
    return age


def parse_moment(value: str) -> datetime:
    """An age before now (``24h``, ``7d``, ``30m``: see :func:`parse_age`) or an ISO 8601 instant."""
    if _AGE.fullmatch(value.strip()):
        return datetime.now(UTC) - parse_age(value)
    return parse_instant(value)
