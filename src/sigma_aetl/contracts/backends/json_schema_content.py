"""Which object schemas of a contract leave their content model unsaid: "closed unless the contract says".

An object schema that lists ``properties`` states what happens to the other fields with
``additionalProperties`` — or is covered by ``unevaluatedProperties`` (or ``additionalProperties``) on an
enclosing schema that evaluates it at the same place in the event: through ``allOf``, ``anyOf``,
``oneOf``, ``then``/``else``, ``dependentSchemas``, ``$ref`` or ``$dynamicRef``. That is how a composed object
is closed in Draft 2020-12: ``{"allOf": [{"properties": ...}], "unevaluatedProperties": false}``.

Only the schemas that describe content need a statement. ``if``, ``not``, ``contains``, ``propertyNames``
and ``contentSchema`` only test a value (a failing ``if`` lets the event through to ``else``, a ``not``
inverts), so an object inside them is a condition, never an open door. A ``$defs`` entry is judged where
it is used: closed when every ``$ref`` to it is covered; one no reference reaches must state it itself.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sigma_aetl.contracts.backends.json_schema_walk import children, pointer, walk

IN_PLACE = frozenset({"allOf", "anyOf", "oneOf", "then", "else", "dependentSchemas"})
"""Keywords whose subschemas apply to the same value as their parent (and report what they evaluated)."""
CONDITIONS = frozenset({"if", "not", "contains", "propertyNames", "contentSchema"})
"""Keywords whose subschemas only test a value: an object in them describes no content."""
DEFINITIONS = frozenset({"$defs", "definitions"})
REFERENCES = ("$ref", "$dynamicRef")
STATEMENTS = ("additionalProperties", "unevaluatedProperties")


@dataclass(frozen=True)
class Use:
    """One way the validator reaches a subschema: covered by a statement, or from where, uncovered."""

    covered: bool
    owner: str
    """The location of the schema where the value this subschema applies to is first described."""
    via: str
    """The location the subschema is reached from (itself, or the ``$ref`` that uses it)."""


@dataclass
class _Reach:
    locations: dict[int, str]
    uses: dict[int, list[Use]] = field(default_factory=dict)
    seen: set[tuple[int, bool, str, bool]] = field(default_factory=set)


def open_objects(schema: dict[str, Any]) -> Iterator[str]:
    """A sentence for each object schema that lists properties without its content model being stated."""
    reach = _Reach({id(node): path for path, node in walk(schema)})
    _visit(reach, schema, schema, covered=False, owner="", via="")
    for path, node in walk(schema):
        if "properties" not in node and path != "":
            continue
        if any(statement in node for statement in STATEMENTS):
            continue
        uses = reach.uses.get(id(node), [])
        uncovered = [use for use in uses if not use.covered]
        if not uses or uncovered:
            yield _sentence(path, uncovered[0] if uncovered else None)


def _visit(
    reach: _Reach,
    root: dict[str, Any],
    node: Any,
    *,
    covered: bool,
    owner: str,
    via: str,
    testing: bool = False,
) -> None:
    """Record how ``node`` is reached, then go on to what it applies. Under a condition (``testing``)
    everything is covered: it tests a value, it describes no content."""
    if not isinstance(node, dict) or (id(node), covered, owner, testing) in reach.seen:
        return  # not a schema object, or a $ref cycle, or reached this same way before
    reach.seen.add((id(node), covered, owner, testing))
    reach.uses.setdefault(id(node), []).append(Use(covered or testing, owner, via))
    here = reach.locations.get(id(node), via)
    stated = covered or testing or any(statement in node for statement in STATEMENTS)
    for keyword, index, child in children(node):
        location = here + pointer(keyword, index)
        if keyword in DEFINITIONS:
            continue  # reached through the references that use it
        inside = keyword in IN_PLACE
        test = testing or keyword in CONDITIONS
        _visit(
            reach,
            root,
            child,
            covered=(stated if inside else False) or test,
            owner=owner if inside else location,
            via=location,
            testing=test,
        )
    for keyword in REFERENCES:
        for target in _targets(root, node, keyword):
            _visit(reach, root, target, covered=stated, owner=owner, via=here, testing=testing)


def _targets(root: dict[str, Any], node: dict[str, Any], keyword: str) -> list[Any]:
    """The subschemas a local reference names: ``#/json/pointer``, ``#anchor`` (``$anchor``, or for
    ``$dynamicRef`` every ``$dynamicAnchor`` of that name), or an embedded resource's ``$id``."""
    ref = node.get(keyword)
    if not isinstance(ref, str):
        return []
    if ref.startswith("#/") or ref == "#":
        target = _pointed(root, ref[1:])
        return [] if target is None else [target]
    anchors = ("$anchor", "$dynamicAnchor") if keyword == "$dynamicRef" else ("$anchor",)
    name = ref.removeprefix("#")
    found = [n for _, n in walk(root) if any(n.get(a) == name for a in anchors) or n.get("$id") == ref]
    return found[:1] if keyword == "$ref" else found


def _pointed(root: Any, pointer_text: str) -> Any:
    node = root
    for raw in pointer_text.split("/")[1:]:  # RFC 6901: split first, then unescape each step
        step = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list) and step.isdigit() and int(step) < len(node):
            node = node[int(step)]
        elif isinstance(node, dict) and step in node:
            node = node[step]
        else:
            return None
    return node


def _sentence(path: str, use: Use | None) -> str:
    where = path or "the root"
    if use is None and path != "":
        where += " (not used by the schema)"
    elif use is not None and use.via not in (path, "") and not use.via.startswith(path + "/"):
        where += f" (used at {use.via})"
    fix = 'add "additionalProperties": false (rejected) or true (kept) to it'
    if use is not None and use.owner != path:
        fix += f', or "unevaluatedProperties": false or true to {use.owner or "the root"}, which combines it'
    elif path == "":
        fix += ', or "unevaluatedProperties": false or true (which also covers allOf, anyOf, $ref...)'
    return (
        f"the object schema at {where} does not say whether fields it does not define are allowed: {fix}; "
        "silently allowing them is not a contract"
    )
