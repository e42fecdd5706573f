"""Parsers for command-line values that are more than a string: ``name@version`` refs and instants."""

from datetime import UTC, datetime

import typer

from sigma_aetl.core.refs import ContractRef
from sigma_aetl.core.refs import parse_ref as core_parse_ref

__all__ = ["ContractRef", "parse_instant", "parse_ref"]


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
