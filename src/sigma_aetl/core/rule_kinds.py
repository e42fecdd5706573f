"""What a business rule compares: the kind of each field it reads, read from the contract's JSON Schema.

A rule on timestamps must compare instants, not strings: ``"10:30:00+05:00"`` is 05:30 UTC, earlier than
``"10:00:00Z"``, though it sorts after it as text. A field whose schema is a string with
``format: date-time`` (Pydantic's ``datetime``, JSON Schema's own) is an *instant*: its values, and a rule's
constant for it, are read as RFC 3339 date-times (:mod:`sigma_aetl.core.temporal`) and compared with their
offsets applied. ``format: date`` is a *date*. A number with ``format: decimal`` (Pydantic's ``Decimal``)
is a *decimal*: values and constants compare as decimals. Other fields compare as the JSON values they are
(numbers as numbers, strings as strings).

Both backends describe their fields in JSON Schema, so their twins get the same kinds. What cannot work is
refused when the contract loads (``Contract`` checks its rules with :func:`rule_problems`): a path the
schema does not define, a rule comparing values of different kinds or JSON types, a constant that is not a
value of the field's type or kind (``total <= "abc"``, ``placed_at >= "yesterday"``).
"""

from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any, Literal

from sigma_aetl.core.explain import json_type, repr_json
from sigma_aetl.core.paths import EVERY, Step, parse_path
from sigma_aetl.core.temporal import parse_date, parse_instant

Kind = Literal["instant", "date", "decimal"]
_FORMATS: dict[str, Kind] = {"date-time": "instant", "date": "date"}
_WORDS: dict[Kind, str] = {
    "instant": "an instant (RFC 3339 date-time with its UTC offset)",
    "date": "a date (YYYY-MM-DD)",
    "decimal": "a decimal (a JSON number)",
}
_ORDERED = frozenset({"lt", "le", "gt", "ge"})
_NODE = Mapping[str, Any]


class Uncomparable:
    """A value that is not of its field's kind (the schema let it through, so it fails the rule)."""


UNCOMPARABLE = Uncomparable()


def field_kinds(schema: _NODE, paths: Iterable[str]) -> dict[str, Kind]:
    """The kind of each rule ``path`` in ``schema`` that is an instant, a date or a decimal."""
    kinds: dict[str, Kind] = {}
    for path in paths:
        node = field_node(schema, parse_path(path))
        kind = _kind(schema, node) if node is not None else None
        if kind is not None:
            kinds[path] = kind
    return kinds


def typed(value: Any, kind: Kind) -> Any:
    """``value`` read as its kind: a datetime, a date or a Decimal; UNCOMPARABLE when it is not one."""
    if kind == "decimal":
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            return UNCOMPARABLE
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not isinstance(value, str):
        return UNCOMPARABLE
    found = parse_instant(value) if kind == "instant" else parse_date(value)
    return UNCOMPARABLE if found is None else found


def rule_problems(schema: _NODE, rule: Any) -> list[str]:
    """Why ``rule`` (a :class:`~sigma_aetl.core.rules.Rule`) cannot work against ``schema``; empty when
    it can."""
    nodes = {path: field_node(schema, parse_path(path)) for path in rule.fields()}
    missing = [path for path, node in nodes.items() if node is None]
    if missing:
        return [
            f"rule {rule.name}: {path} is not a field of the contract; a rule reads a defined field "
            "(weight_kg, customer.country, items[*].quantity)"
            for path in missing
        ]
    defined = {path: node for path, node in nodes.items() if node is not None}
    field = _Field(rule.field, schema, defined[rule.field])
    if rule.other_field is not None:
        other = _Field(rule.other_field, schema, defined[rule.other_field])
        return _pair_problems(rule, field, other)
    constants = rule.value if rule.op in ("in", "not_in") else [rule.value]
    problems = [problem for constant in constants if (problem := _constant_problem(rule, field, constant))]
    return problems or _order_problems(rule, field)


class _Field:
    """A field a rule reads: its path, kind and JSON types (None: any type)."""

    def __init__(self, path: str, schema: _NODE, node: _NODE) -> None:
        self.path = path
        self.kind = _kind(schema, node)
        self.types = field_types(schema, node)

    def admits(self, constant: Any) -> bool:
        if self.types is None:
            return True
        kind = json_type(constant)
        return kind in self.types or (
            kind in ("integer", "number") and bool({"integer", "number"} & self.types)
        )

    def describe(self) -> str:
        if self.kind is not None:
            return _WORDS[self.kind]
        return " or ".join(sorted(self.types)) if self.types is not None else "any type"


def _pair_problems(rule: Any, field: _Field, other: _Field) -> list[str]:
    numbers = {"integer", "number"}
    if field.kind != other.kind and (field.kind in ("instant", "date") or other.kind in ("instant", "date")):
        clash = True
    elif field.types is None or other.types is None:
        clash = False
    else:
        widen = {*field.types, *(numbers if field.types & numbers else ())}
        clash = not (widen & {*other.types, *(numbers if other.types & numbers else ())}) - {"null"}
    if not clash:
        return _order_problems(rule, field)
    return [
        f"rule {rule.name} compares {field.path} ({field.describe()}) with {other.path} "
        f"({other.describe()}); a rule compares values of one kind"
    ]


def _constant_problem(rule: Any, field: _Field, constant: Any) -> str | None:
    if constant is None:  # in/not_in naming null: a statement about absence of a value
        return None
    if field.kind is not None:
        value = typed(constant, field.kind)
        if value is UNCOMPARABLE:
            hint = (
                "; it has no UTC offset (add Z or +HH:MM)"
                if field.kind == "instant" and _naive(constant)
                else ""
            )
            return (
                f"rule {rule.name}: {repr_json(constant)} is not {_WORDS[field.kind]}, the kind of "
                f"{field.path}{hint}"
            )
        return None
    if not field.admits(constant):
        return (
            f"rule {rule.name}: {repr_json(constant)} is {json_type(constant)}, but {field.path} is "
            f"{field.describe()}; write the constant as a value of that type"
        )
    return None


def _order_problems(rule: Any, field: _Field) -> list[str]:
    if rule.op not in _ORDERED or field.kind is not None or field.types is None:
        return []
    if field.types & {"integer", "number", "string"}:
        return []
    return [
        f"rule {rule.name}: {field.path} is {field.describe()}, which has no order; use eq, ne, in or not_in"
    ]


def _naive(constant: Any) -> bool:
    return isinstance(constant, str) and parse_instant(constant + "Z") is not None


def field_node(schema: _NODE, steps: tuple[Step, ...]) -> _NODE | None:
    """The subschema a rule path's steps lead to, or None when the schema does not define it."""
    node: _NODE | None = schema
    for step in steps:
        if node is None:
            return None
        node = _child(schema, node, step)
    return resolve_ref(schema, node) if node is not None else None


def _child(schema: _NODE, node: _NODE, step: Step) -> _NODE | None:
    for branch in branches(schema, node):
        if step is EVERY:
            items = branch.get("items")
            if isinstance(items, Mapping):
                return items
        else:
            properties = branch.get("properties")
            if isinstance(properties, Mapping) and isinstance(properties.get(step), Mapping):
                child: _NODE = properties[step]
                return child
    return None


_MAX_NESTING = 16
"""How deep compositions are followed (``$ref`` cycles end there)."""


def branches(schema: _NODE, node: _NODE, *, always: bool = False, depth: int = 0) -> Iterator[_NODE]:
    """``node`` and the subschemas that describe the same value: what its local ``$ref`` refers to, its
    ``allOf`` parts, and (unless ``always``: only the parts that always apply) the branches of its
    ``anyOf``/``oneOf`` — an optional or nullable field (``anyOf`` with null), a union."""
    yield node
    if depth >= _MAX_NESTING:
        return
    target = resolve_ref(schema, node)
    if target is not node:
        yield from branches(schema, target, always=always, depth=depth + 1)
    for key in ("allOf",) if always else ("allOf", "anyOf", "oneOf"):
        for branch in node.get(key) or []:
            if isinstance(branch, Mapping):
                yield from branches(schema, branch, always=always, depth=depth + 1)


def resolve_ref(schema: _NODE, node: _NODE) -> _NODE:
    """Follow a local ``$ref`` (``#/$defs/Item``), as Pydantic writes nested models."""
    ref = node.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return node
    target: Any = schema
    for part in ref[2:].split("/"):
        target = (
            target.get(part.replace("~1", "/").replace("~0", "~")) if isinstance(target, Mapping) else None
        )
    return target if isinstance(target, Mapping) else node


def _kind(schema: _NODE, node: _NODE) -> Kind | None:
    node = resolve_ref(schema, node)
    types = _declared(node)
    if types is not None and "string" in types and node.get("format") in _FORMATS:
        return _FORMATS[node["format"]]
    if types is not None and "number" in types and node.get("format") == "decimal":
        return "decimal"
    branches = node.get("anyOf") or node.get("oneOf")
    if isinstance(branches, list):  # an optional field: the kind of its one non-null branch
        kinds = {_kind(schema, b) for b in branches if isinstance(b, Mapping) and b.get("type") != "null"}
        if len(kinds) == 1:
            return kinds.pop()
    return None


def field_types(schema: _NODE, node: _NODE) -> frozenset[str] | None:
    """The JSON types a field may hold, or None when the schema does not say (any type)."""
    node = resolve_ref(schema, node)
    declared = _declared(node)
    if declared is not None:
        return declared
    if isinstance(node.get("enum"), list):
        return frozenset(json_type(option) for option in node["enum"])
    if "const" in node:
        return frozenset({json_type(node["const"])})
    branches = node.get("anyOf") or node.get("oneOf")
    if isinstance(branches, list):
        found = [field_types(schema, b) for b in branches if isinstance(b, Mapping)]
        if found and all(kinds is not None for kinds in found):
            return frozenset().union(*(kinds for kinds in found if kinds is not None))
    return None


def _declared(node: _NODE) -> frozenset[str] | None:
    declared = node.get("type")
    if isinstance(declared, str):
        return frozenset({declared})
    if isinstance(declared, list):
        return frozenset(str(kind) for kind in declared)
    return None
