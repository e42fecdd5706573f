"""Parsers for command-line values that are more than a string: ``name@version`` refs and instants."""

import re
from dataclasses import dataclass
from datetime import UTC, datetime

import typer

_REF = re.compile(r"([^@\s]+)@([^@\s]+)")


@dataclass(frozen=True, slots=True)
class ContractRef:
    """A contract version as an operator names it: ``shipment@1``."""

    name: str
    version: str

    def __str__(self) -> str:
        return f"{self.name}@{self.version}"


def parse_ref(value: str) -> ContractRef:
    """``name@version`` → :class:`ContractRef`; anything else is a usage error (exit code 2)."""
    match = _REF.fullmatch(value)
    if match is None:
        raise typer.BadParameter(f"{value!r} is not NAME@VERSION (for example shipment@1)")
    return ContractRef(match.group(1), match.group(2))


def parse_instant(value: str) -> datetime:
    """An ISO 8601 date or date-time; one without a UTC offset is taken as UTC."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not an ISO 8601 date or date-time (for example 2025-01-31T12:00:00Z)"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
