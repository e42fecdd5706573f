"""Reading the structured log (structlog's key=value lines) that a real ``sigma-aetl`` process wrote."""

import ast
import re
from pathlib import Path
from typing import Any


def log_events(log: Path, name: str | None = None) -> list[dict[str, Any]]:
    """The lines of a process's log whose event is ``name`` (or all), as dicts of their key=value pairs."""
    lines = log.read_text().splitlines()
    return [_fields(line) for line in lines if name is None or f"event='{name}'" in line]


def _fields(line: str) -> dict[str, Any]:
    """key='value' pairs of a KeyValueRenderer line (values with spaces are quoted by repr)."""
    fields: dict[str, Any] = {}
    for key, value in _PAIR.findall(line):
        try:
            fields[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            fields[key] = value
    return fields


_PAIR = re.compile(r"(\w+)=('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|\[[^\]]*\]|\S+)")
