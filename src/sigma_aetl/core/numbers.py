"""Numbers exactly as sent: a JSON number a 64-bit float cannot hold as written is an error, not a rounding.

JSON numbers with a fraction or an exponent are read as 64-bit floats (orjson, Pydantic and JSON Schema
alike), which hold about 16 significant digits. ``1000.0000000000000001`` reads as ``1000.0``, so a rule
``weight_kg <= 1000`` would pass it and the record would keep a value other than the one sent. The rule,
applied once at parse for every backend (so twin contracts decide alike):

    A number written with a fraction or an exponent must be, in value, the shortest decimal that reads
    back as the same float (Python's ``repr``), compared after normalising exponent and trailing zeros.

So ``0.1``, ``2.50``, ``1e3``, ``5e-324`` and any float's ``repr`` pass; ``1000.0000000000000001``,
``9007199254740993.0`` and ``1e-400`` (which reads as ``0.0``) are ``inexact_number`` errors at their path,
a ``constraint_violation``. Integers (no fraction, no exponent) are read exactly, at any size; only where
the contract's JSON Schema makes the field a ``number`` (a float or a decimal, which backends check as
floats) is an integer a float does not hold, such as ``9007199254740993``, inexact too.

Most payloads never reach the exact check: a number can only be inexact with at least 16 significant digits
or a three-digit exponent, which :func:`may_be_inexact` looks for in the bytes first, and only when the
parsed value holds a float or a large integer at all.
"""

import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sigma_aetl.core.decision import FieldError, LocPart
from sigma_aetl.core.explain import format_path
from sigma_aetl.core.paths import EVERY
from sigma_aetl.core.rule_kinds import field_node, field_types
from sigma_aetl.core.taxonomy import RootCause, Stage
from sigma_aetl.core.value import value

INEXACT = "inexact_number"
"""The error type of a number a 64-bit float does not hold as written."""

# A number token that ends where JSON lets one end (whitespace, comma, bracket, brace, the end; not a
# quote, so a UUID's "0e8400" or a string of digits is left alone) and is either a run of 16 digits or
# dots (16 significant digits need one), with or without an exponent, or has an exponent of three digits
# (the only way a short number leaves the range floats hold exactly). Text inside a string that looks
# like one only costs the exact check.
_CANDIDATE = re.compile(rb"(?:[0-9][0-9.]{15,}(?:[eE][+-]?[0-9]+)?|[0-9][eE][+-]?[0-9]{3,})(?:[\s,\]}]|\Z)")
EXACT_INTEGERS = 2**53
"""Every integer of this magnitude or less is a float too (an integer above it has 16 digits or more)."""


@value
class InexactNumber:
    """A number in the payload that a 64-bit float does not hold as written."""

    loc: tuple[LocPart, ...]
    text: str
    """The number exactly as sent."""
    reads_as: float
    """The float it would have been read as."""
    integer: bool = False
    """An integer, inexact only in a field that holds floats (see :func:`counts_in`)."""


def may_be_inexact(raw: bytes) -> bool:
    """Whether JSON ``raw`` may hold an inexact number: False is certain, True asks :func:`read_exactly`."""
    return _CANDIDATE.search(raw) is not None


def read_exactly(text: str) -> tuple[Any, tuple[InexactNumber, ...]]:
    """The JSON value of ``text`` (valid JSON, already checked), and every inexact number in it, in order."""
    written: list[str | None] = []  # per float, in document order: its text when inexact

    def number(token: str) -> float:
        reads_as = float(token)
        written.append(None if Decimal(token) == Decimal(repr(reads_as)) else token)
        return reads_as

    parsed = json.loads(text, parse_float=number)
    return parsed, tuple(_located(parsed, written))


def _located(parsed: Any, written: list[str | None]) -> list[InexactNumber]:
    """Walk the value in document order (the order the parser met its floats) and place the inexact ones,
    and the integers a float would not hold."""
    found: list[InexactNumber] = []
    floats = iter(written)
    stack: list[tuple[Any, tuple[LocPart, ...]]] = [(parsed, ())]
    while stack:
        node, loc = stack.pop()
        kind = type(node)
        if kind is float:
            token = next(floats)
            if token is not None:
                found.append(InexactNumber(loc, token, node))
        elif kind is int and not -EXACT_INTEGERS <= node <= EXACT_INTEGERS and float(node) != node:
            found.append(InexactNumber(loc, str(node), float(node), integer=True))
        elif isinstance(node, dict):
            stack.extend((child, (*loc, key)) for key, child in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend((child, (*loc, index)) for index, child in reversed(list(enumerate(node))))
    return found


def counts_in(number: InexactNumber, schema: Mapping[str, Any]) -> bool:
    """Whether ``number`` is an error under a contract whose JSON Schema is ``schema``: any inexact float,
    and an integer only in a field of type ``number`` (the backends read it as a float there)."""
    if not number.integer:
        return True
    node = field_node(schema, tuple(EVERY if isinstance(step, int) else step for step in number.loc))
    types = field_types(schema, node) if node is not None else None
    return types is not None and "number" in types and "integer" not in types


def inexact_error(number: InexactNumber) -> FieldError:
    """The ``constraint_violation`` of one inexact number."""
    path = format_path(number.loc)
    shortest = repr(number.reads_as)
    message = (
        f"{number.text} is not a number a 64-bit float holds as written: it would be read as {shortest}. "
        "Send the value the float holds, or send it as a string."
    )
    return FieldError(
        path=path,
        loc=number.loc,
        type=INEXACT,
        root_cause=RootCause.CONSTRAINT_VIOLATION,
        stage=Stage.SCHEMA,
        message=message,
        constraint="a number a 64-bit float holds exactly",
        explanation=f"{path or 'payload'}: expected a number a 64-bit float holds exactly, received "
        f"{number.text}, which would be read as {shortest}.",
    )
