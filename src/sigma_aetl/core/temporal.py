"""RFC 3339 instants and dates: the one grammar both backends, and the business rules, read them by.

JSON has no date type, so a date-time is a string, and two parsers rarely agree on which strings are one:
Pydantic alone takes ``2025-01-01 10:00:00Z`` (a space), ``2025-01-01T10:00:00`` (no offset) and
``2025-01-01T10:00Z`` (no seconds), which JSON Schema's ``format: date-time`` refuses. Here an *instant* is
RFC 3339's ``date-time`` — ``YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)``, the ``T`` and ``Z`` in
either case, as RFC 3339 allows — and a *date* its ``full-date`` (``YYYY-MM-DD``), each a real calendar
day. Two things RFC 3339 admits are refused because no Python datetime holds them: year 0000 and the
leap second ``:60``. Both backends check strings with :func:`is_instant` / :func:`is_date`, so a value
one accepts the other accepts.
"""

import re
from datetime import date, datetime

_INSTANT = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt]([01]\d|2[0-3]):([0-5]\d):([0-5]\d)(\.\d+)?(?:[Zz]|[+-](?:[01]\d|2[0-3]):[0-5]\d)",
    re.ASCII,
)
_DATE = re.compile(r"(\d{4})-(\d\d)-(\d\d)", re.ASCII)


def is_instant(text: str) -> bool:
    """Whether ``text`` is an RFC 3339 date-time with its UTC offset (``2025-01-31T09:30:00+01:00``)."""
    match = _INSTANT.fullmatch(text)
    return match is not None and _real_day(match)


def is_date(text: str) -> bool:
    """Whether ``text`` is an RFC 3339 full-date (``2025-01-31``)."""
    match = _DATE.fullmatch(text)
    return match is not None and _real_day(match)


def parse_instant(text: str) -> datetime | None:
    """The aware datetime ``text`` states, or None when it is not an instant (:func:`is_instant`)."""
    if not is_instant(text):
        return None
    return datetime.fromisoformat(text.upper())


def parse_date(text: str) -> date | None:
    """The date ``text`` states, or None when it is not a date (:func:`is_date`)."""
    return date.fromisoformat(text) if is_date(text) else None


def _real_day(match: re.Match[str]) -> bool:
    year, month, day = (int(part) for part in match.group(1, 2, 3))
    try:
        date(year, month, day)
    except ValueError:  # year 0000, month 13, 30 February...
        return False
    return True
