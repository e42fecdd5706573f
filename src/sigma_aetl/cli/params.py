"""Parsers for command-line values that are more than a string: ``name@version`` refs, instants, ages."""

import re
from datetime import UTC, datetime, timedelta

import typer

from sigma_aetl.core.refs import ContractRef
from sigma_aetl.core.refs import parse_ref as core_parse_ref

__all__ = ["ContractRef", "parse_age", "parse_instant", "parse_ref"]

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
