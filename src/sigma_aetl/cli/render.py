"""Output helpers: rich consoles for people, plain JSON for programs, and the tables commands share.

Everything that came from an event (paths, explanations, raw payloads) is untrusted: it is shown as
:class:`rich.text.Text` (never parsed as markup) with control characters escaped, so a payload cannot
restyle or take over the operator's terminal.
"""

import json
import re
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from sigma_aetl.core.decision import FieldError

PIPE_WIDTH = 200
"""Width used when stdout is not a terminal, so piped tables keep one row per line."""

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def stdout_console() -> Console:
    """A console on stdout; wide when piped, since nobody reads a pipe through an 80-column window."""
    console = Console(highlight=False)
    if not console.is_terminal:
        console.width = max(console.width, PIPE_WIDTH)
    return console


def stderr_console() -> Console:
    """A console on stderr, for error messages."""
    return Console(stderr=True, highlight=False)


def print_json(value: Any) -> None:
    """Print ``value`` as indented JSON on stdout, and nothing else.

    The standard library encoder is used because accepted data may hold integers beyond 64 bits, which
    orjson refuses to encode.
    """
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def plain(value: object) -> Text:
    """Untrusted text, shown literally: no markup, control characters escaped (``\\x1b``)."""
    text = "" if value is None else str(value)
    return Text(_CONTROL.sub(_escape, text))


def _escape(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def truncate(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, with an ellipsis when something was cut."""
    return text if len(text) <= width else text[: width - 1] + "…"


def short_fingerprint(fingerprint: str | None) -> str:
    """``sha256:`` and the first 12 hex digits: enough to tell versions apart at a glance."""
    return fingerprint[:19] if fingerprint else "-"


def timestamp(moment: datetime) -> str:
    """An instant in UTC, to the second: ``2025-01-31T12:00:00Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def details(rows: Iterable[tuple[str, RenderableType]], title: Text | None = None) -> Table:
    """A two-column key/value table."""
    table = Table(title=title, show_header=False, box=None, padding=(0, 2, 0, 0), title_justify="left")
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for key, value in rows:
        table.add_row(key, value)
    return table


def counts(title: str, column: str, values: dict[str, int]) -> Table:
    """A table of counts by key, or a table saying there are none."""
    table = Table(title=title, title_justify="left")
    table.add_column(column)
    table.add_column("count", justify="right")
    for key, count in values.items():
        table.add_row(plain(key), str(count))
    if not values:
        table.add_row(Text("none", style="dim"), "0")
    return table


def errors_table(errors: Sequence[FieldError]) -> Table:
    """Every error of a decision or failure record: path, type, root cause, constraint, explanation."""
    table = Table(title=f"{len(errors)} error(s)", title_justify="left")
    for name in ("path", "type", "root_cause", "constraint"):
        table.add_column(name, overflow="fold")
    table.add_column("explanation", overflow="fold", ratio=1)
    for error in errors:
        table.add_row(
            plain(error.path or "(payload)"),
            plain(error.type),
            error.root_cause.value,
            plain(error.constraint or "-"),
            plain(error.explanation),
        )
    return table


def status_text(status: str) -> Text:
    """``PASSED`` in green, ``FAILED`` in red."""
    return Text(status, style="bold green" if status == "PASSED" else "bold red")
