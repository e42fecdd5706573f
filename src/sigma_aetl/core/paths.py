"""The paths business rules address: ``weight_kg``, ``customer.country``, ``items[*].quantity``.

A path is field names joined by dots; ``[*]`` after a name means every element of that array. Parsed once
(:func:`parse_path`) into steps — a field name, or :data:`EVERY` — and walked on each event
(:func:`locate`), which yields each value present with its location, in the failure records' notation
(``items[2].quantity``, :func:`sigma_aetl.core.explain.format_path`).
"""

import re
from collections.abc import Iterator, Mapping
from typing import Any

from sigma_aetl.core.decision import LocPart

EVERY = None
"""The step ``[*]``: every element of an array."""

Step = str | None
_SEGMENT = re.compile(r"([^.\[\]]+)((?:\[\*\])*)")


def parse_path(path: str) -> tuple[Step, ...]:
    """``items[*].quantity`` → ``("items", EVERY, "quantity")``; raises ValueError for another shape."""
    steps: list[Step] = []
    for segment in path.split("."):
        match = _SEGMENT.fullmatch(segment)
        if match is None:
            raise ValueError(
                f"{path!r} is not a field path: names joined by dots, [*] after an array's name "
                "(customer.country, items[*].quantity)"
            )
        steps.append(match.group(1))
        steps.extend([EVERY] * (len(match.group(2)) // 3))
    return tuple(steps)


def locate(data: Any, steps: tuple[Step, ...]) -> Iterator[tuple[tuple[LocPart, ...], Any]]:
    """Every value at ``steps`` in ``data`` with its location; absent fields yield nothing."""
    yield from _walk(data, steps, 0, ())


def _walk(
    node: Any, steps: tuple[Step, ...], at: int, loc: tuple[LocPart, ...]
) -> Iterator[tuple[tuple[LocPart, ...], Any]]:
    if at == len(steps):
        yield loc, node
        return
    step = steps[at]
    if step is EVERY:
        if type(node) is list:
            for index, item in enumerate(node):
                yield from _walk(item, steps, at + 1, (*loc, index))
    elif (type(node) is dict or isinstance(node, Mapping)) and step in node:
        yield from _walk(node[step], steps, at + 1, (*loc, step))
