"""Where in the payload a jsonschema-rs error is, in the shared notation: keys as sent, indexes as numbers.

jsonschema-rs reports an object key that reads as a number as that number (``"0"``, ``"00"`` and ``"+0"``
all become ``0``), so a location is typed again by the payload it points into.
"""

from collections.abc import Iterator, Sequence
from typing import Any

from sigma_aetl.core.decision import LocPart


def payload_loc(value: Any, path: Sequence[LocPart], instance: Any = None) -> tuple[LocPart, ...]:
    """The error's location with each step typed by the payload. jsonschema-rs gives an object key that
    reads as a number as that number (``"0"``, ``"00"`` and ``"+0"`` all become ``0``); in the shared
    notation a key is the name sent (``scores.00``), an index a number. When two keys of one object read
    as the same number, the one holding the erring value (``instance``) is the step."""
    if all(type(part) is str for part in path):  # names only: nothing to resolve (most errors)
        return tuple(path)
    found = _locations(value, path, ())
    first = next(found, None)
    if first is None:
        return tuple(path)
    second = next(found, None)
    if second is None:
        return first
    return next((loc for loc in (first, second, *found) if _at(value, loc) == instance), first)


def _locations(
    node: Any, path: Sequence[LocPart], done: tuple[LocPart, ...]
) -> Iterator[tuple[LocPart, ...]]:
    if not path:
        yield done
        return
    part, rest = path[0], path[1:]
    if isinstance(node, list) and isinstance(part, int) and part < len(node):
        yield from _locations(node[part], rest, (*done, part))
    elif isinstance(node, dict):
        keys = [str(part)] if isinstance(part, str) else [k for k in node if _reads_as(k, part)]
        for key in keys:
            yield from _locations(node.get(key), rest, (*done, key))
    else:
        yield (*done, *path)


def _reads_as(key: str, index: int) -> bool:
    """Whether jsonschema-rs reports the object key ``key`` as the number ``index``."""
    digits = key.removeprefix("+")
    return digits.isascii() and digits.isdigit() and int(digits) == index


def _at(value: Any, loc: Sequence[LocPart]) -> Any:
    for part in loc:
        if isinstance(value, dict):
            value = value.get(part)
        else:
            inside = isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value)
            value = value[part] if inside else None
    return value
