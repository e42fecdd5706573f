"""Whether one field's JSON Schema constraints are tighter than another's.

Numeric bounds, lengths, sizes, enumerations and ``uniqueItems`` are compared by value: a bound moved
inwards, a minimum length raised or an enumeration that dropped a value is *tighter*. Every other keyword
(``pattern``, ``format``, ``const``, ``anyOf``, ``not``...) is tighter when it appears or changes, because
no simple rule proves otherwise; those findings are marked *provable* so that a containment proof can clear
them (see :mod:`sigma_aetl.contracts.evolution.compatibility`).
"""

import math
from collections.abc import Iterator
from typing import Any

from sigma_aetl.core.canonical import canonical_bytes
from sigma_aetl.core.explain import constraint_words, repr_json
from sigma_aetl.core.rules import json_equal

Finding = tuple[str, str, bool]
"""(kind, what the reader now requires in words, provable)."""

_LOWER = {"minimum": False, "exclusiveMinimum": True}
_UPPER = {"maximum": False, "exclusiveMaximum": True}
_AT_LEAST = ("minLength", "minItems", "minProperties")
_AT_MOST = ("maxLength", "maxItems", "maxProperties")
_DECIDED = frozenset({*_LOWER, *_UPPER, *_AT_LEAST, *_AT_MOST, "enum", "uniqueItems", "multipleOf"})


def tighter_constraints(old: dict[str, Any], new: dict[str, Any]) -> Iterator[Finding]:
    """Every way ``new`` accepts less than ``old``."""
    yield from _bound(old, new, _LOWER, lower=True)
    yield from _bound(old, new, _UPPER, lower=False)
    yield from _sizes(old, new)
    yield from _enum(old, new)
    yield from _multiple(old, new)
    if new.get("uniqueItems") is True and old.get("uniqueItems") is not True:
        yield "constraint_tightened", "unique items", False
    for keyword, value in new.items():
        if keyword not in _DECIDED and not _same(old.get(keyword, _absent), value):
            kind = "constraint_changed" if keyword in old else "constraint_added"
            yield kind, constraint_words(keyword, value), True


_absent = object()


def _same(left: Any, right: Any) -> bool:
    if left is _absent:
        return False
    return canonical_bytes(left) == canonical_bytes(right)


def _bound(
    old: dict[str, Any], new: dict[str, Any], keywords: dict[str, bool], *, lower: bool
) -> Iterator[Finding]:
    was, now = _tightest(old, keywords, lower), _tightest(new, keywords, lower)
    if now is None or (was is not None and not _inside(now, was, lower)):
        return
    text = _bound_words(now, keywords)
    if was is not None:
        text += f" (was {_bound_words(was, keywords)})"
    yield "constraint_tightened", text, False


def _bound_words(bound: tuple[Any, bool], keywords: dict[str, bool]) -> str:
    keyword = next(k for k, exclusive in keywords.items() if exclusive == bound[1])
    return constraint_words(keyword, bound[0])


def _tightest(constraints: dict[str, Any], keywords: dict[str, bool], lower: bool) -> tuple[Any, bool] | None:
    bounds = [(constraints[k], exclusive) for k, exclusive in keywords.items() if _number(constraints.get(k))]
    if not bounds:
        return None
    if lower:
        return max(bounds, key=lambda bound: (bound[0], bound[1]))
    return min(bounds, key=lambda bound: (bound[0], not bound[1]))


def _inside(now: tuple[Any, bool], was: tuple[Any, bool], lower: bool) -> bool:
    """Whether bound ``now`` is strictly inside bound ``was``."""
    if now[0] != was[0]:
        return bool(now[0] > was[0]) if lower else bool(now[0] < was[0])
    return now[1] and not was[1]


def _sizes(old: dict[str, Any], new: dict[str, Any]) -> Iterator[Finding]:
    for keyword in _AT_LEAST:
        if _number(new.get(keyword)) and new[keyword] > (
            old.get(keyword) if _number(old.get(keyword)) else 0
        ):
            yield "constraint_tightened", constraint_words(keyword, new[keyword]), False
    for keyword in _AT_MOST:
        before = old.get(keyword) if _number(old.get(keyword)) else math.inf
        if _number(new.get(keyword)) and new[keyword] < before:
            yield "constraint_tightened", constraint_words(keyword, new[keyword]), False


def _enum(old: dict[str, Any], new: dict[str, Any]) -> Iterator[Finding]:
    allowed = new.get("enum")
    if not isinstance(allowed, list):
        return
    before = old.get("enum") if isinstance(old.get("enum"), list) else None
    if before is None and "const" in old:
        before = [old["const"]]
    if before is None:
        yield "constraint_added", constraint_words("enum", allowed), True
        return
    dropped = [value for value in before if not any(json_equal(value, other) for other in allowed)]
    if dropped:
        shown = ", ".join(repr_json(value) for value in dropped)
        yield "enum_narrowed", f"{constraint_words('enum', allowed)} (no longer {shown})", False


def _multiple(old: dict[str, Any], new: dict[str, Any]) -> Iterator[Finding]:
    step, before = new.get("multipleOf"), old.get("multipleOf")
    if not _number(step):
        return
    divides = _number(before) and isinstance(before, int) and isinstance(step, int) and before % step == 0
    if not divides and not _same(before if before is not None else _absent, step):
        yield "constraint_tightened", constraint_words("multipleOf", step), True


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
