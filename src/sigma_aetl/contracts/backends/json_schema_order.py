"""The order, and the selection, of a JSON Schema contract's errors: as the Pydantic backend reports them.

Declared fields in schema order at every depth, array items in order, unknown fields last in payload
order; a wrong type reports only its type; one constraint per value (the first Pydantic checks); sizes as
Pydantic reports them. Twins of one contract in the two backends thus give the same errors in the same order.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from sigma_aetl.core.decision import FieldError, LocPart
from sigma_aetl.core.paths import EVERY, Step
from sigma_aetl.core.rule_kinds import branches, field_node
from sigma_aetl.core.taxonomy import RootCause


class FieldOrder:
    """The declared fields of each object in a schema, in schema order, looked up once per object."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self._schema = schema
        self._known: dict[tuple[Step, ...], dict[str, int]] = {}

    def declared(self, steps: tuple[Step, ...]) -> dict[str, int]:
        """Each field name of the object at ``steps`` with its rank."""
        found = self._known.get(steps)
        if found is None:
            found = {name: rank for rank, name in enumerate(_declared_fields(self._schema, steps))}
            self._known[steps] = found
        return found


def arranged(found: list[FieldError], value: Any, order: FieldOrder) -> list[FieldError]:
    """Every error, one per field problem, wrong-type paths reporting only their type, in field order
    (at every depth, as Pydantic reports them: declared fields in schema order, array items in order)."""
    mistyped = {e.path for e in found if e.root_cause is RootCause.TYPE_MISMATCH}
    kept = [e for e in found if e.root_cause is RootCause.TYPE_MISMATCH or e.path not in mistyped]
    unique = _as_pydantic_sizes(_first_constraint(list(dict.fromkeys(kept))))
    return sorted(unique, key=lambda error: _rank(error.loc, value, order))


_CHECK_ORDER = {
    keyword: rank
    for rank, keyword in enumerate(
        [
            *("format", "multipleOf", "minLength", "maxLength", "minItems", "maxItems", "minimum"),
            *("exclusiveMinimum", "maximum", "exclusiveMaximum", "pattern", "enum", "const"),
        ]
    )
}
"""The order a value's constraints are checked in, Pydantic's: the first one broken is the one reported."""


def _first_constraint(errors: list[FieldError]) -> list[FieldError]:
    """One constraint violation per path, as Pydantic reports a value: ``-0.125`` for a decimal ``> 0``
    with two places is "at most 2 decimal place(s)" only."""
    first: dict[str, FieldError] = {}
    for error in errors:
        if error.root_cause is RootCause.CONSTRAINT_VIOLATION:
            held = first.get(error.path)
            if held is None or _CHECK_ORDER.get(error.type, 99) < _CHECK_ORDER.get(held.type, 99):
                first[error.path] = error
    return [e for e in errors if e.root_cause is not RootCause.CONSTRAINT_VIOLATION or first[e.path] is e]


def _as_pydantic_sizes(errors: list[FieldError]) -> list[FieldError]:
    """Sizes reported as Pydantic reports them: an array over ``maxItems`` only says so (its items are not
    read); an array under ``minItems``, or an object out of its size bounds, whose entries have errors
    reports the entries only."""
    too_long = {e.loc for e in errors if e.type == "maxItems"}
    inside = {e.loc[:depth] for e in errors for depth in range(len(e.loc))}
    kept = []
    for error in errors:
        if any(error.loc[:depth] in too_long for depth in range(len(error.loc))):
            continue
        if error.type in ("minItems", "minProperties", "maxProperties") and error.loc in inside:
            continue
        kept.append(error)
    return kept


def _rank(loc: Sequence[LocPart], value: Any, order: FieldOrder) -> tuple[int, ...]:
    """At each step: an array index as it is; a declared field by its place in the schema, then unknown
    fields in payload order."""
    ranks: list[int] = []
    steps: list[Step] = []
    node: Any = value
    for part in loc:
        if isinstance(part, int):
            ranks.append(part)
            steps.append(EVERY)
            node = node[part] if isinstance(node, list) and part < len(node) else None
            continue
        declared = order.declared(tuple(steps))
        if part in declared:
            ranks.append(declared[part])
        else:
            arrived = list(node) if isinstance(node, dict) else []
            ranks.append(len(declared) + (arrived.index(part) if part in arrived else -1))
        steps.append(part)
        node = node.get(part) if isinstance(node, dict) else None
    return tuple(ranks)


def _declared_fields(schema: Mapping[str, Any], steps: tuple[Step, ...]) -> list[str]:
    node = field_node(schema, steps)
    found: list[str] = []
    for branch in branches(schema, node) if node is not None else ():
        found.extend(name for name in branch.get("properties") or {} if name not in found)
    return found
