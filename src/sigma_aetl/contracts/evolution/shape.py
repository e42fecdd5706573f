"""A contract's shape: its JSON Schema seen as fields with types and constraints, whatever the backend.

Diff and compatibility checks compare shapes, so a Pydantic contract and a JSON Schema contract compare by
meaning, not by spelling: local ``$ref`` are resolved, Pydantic's generated titles are ignored, and an
``anyOf`` of plain types (Pydantic's ``Optional[...]``) becomes one field with several types. Paths use the
failure records' notation: ``weight_kg``, ``address.city``, ``items[]`` (every item), ``items[].sku``; the
empty path is the payload itself.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sigma_aetl.core.explain import constraint_words

STRUCTURE = frozenset(
    {"type", "properties", "required", "items", "additionalProperties", "unevaluatedProperties", "$defs"}
    | {"definitions", "$schema", "$id", "$anchor", "$comment", "title", "examples"}
)
ANNOTATIONS = ("description", "default", "deprecated", "readOnly", "writeOnly")
JSON_TYPES = ("object", "array", "string", "number", "integer", "boolean", "null")


@dataclass(frozen=True)
class FieldSpec:
    """One field (or the payload, at the empty path): required or not, its types and constraints."""

    path: str
    required: bool
    types: tuple[str, ...] = ()
    """JSON types accepted, sorted; empty means any type."""
    constraints: dict[str, Any] = field(default_factory=dict)
    """Assertion keywords as written: ``minimum``, ``pattern``, ``enum``, ``anyOf``..."""
    annotations: dict[str, Any] = field(default_factory=dict)
    closed: bool | None = None
    """Objects: whether unknown fields are rejected. None for a field that is not an object."""

    def describe(self) -> str:
        """``required integer, >= 1, <= 3``."""
        kind = " or ".join(self.types) if self.types else "any type"
        ordered = sorted(self.constraints.items(), key=lambda item: _KEYWORD_ORDER.get(item[0], 99))
        words = [constraint_words(keyword, value) for keyword, value in ordered]
        if self.closed is not None:
            words.append("closed" if self.closed else "open")
        head = ("required " if self.required else "optional ") + kind
        return ", ".join([head, *words])


@dataclass(frozen=True)
class Shape:
    """Every field of a contract's schema, by path, in schema order."""

    fields: dict[str, FieldSpec]

    @property
    def closed(self) -> bool:
        """Whether the payload itself rejects unknown fields."""
        return self.fields[""].closed is not False

    def parent(self, path: str) -> FieldSpec | None:
        """The object (or array) a field belongs to, if this shape has it."""
        return self.fields.get(parent_path(path))


def shape_of(schema: dict[str, Any]) -> Shape:
    """The shape of a JSON Schema object document."""
    found: dict[str, FieldSpec] = {}
    _visit(schema, "", True, root=schema, out=found, refs=())
    return Shape(found)


def parent_path(path: str) -> str:
    """``address.city`` → ``address``; ``items[]`` → ``items``; ``weight_kg`` → the payload (``""``)."""
    if path.endswith("[]"):
        return path[:-2]
    head, dot, _ = path.rpartition(".")
    return head if dot else ""


def _visit(
    node: Any,
    path: str,
    required: bool,
    *,
    root: dict[str, Any],
    out: dict[str, FieldSpec],
    refs: tuple[str, ...],
) -> None:
    node, refs = _resolve(node, root, refs)
    node = _merge_plain_union(node)
    out[path] = _spec(node, path, required)
    names = node.get("required") or []
    for name, child in (node.get("properties") or {}).items():
        _visit(child, _join(path, name), name in names, root=root, out=out, refs=refs)
    for name in names:
        out.setdefault(_join(path, name), FieldSpec(_join(path, name), required=True))
    if isinstance(node.get("items"), dict):
        _visit(node["items"], f"{path}[]", True, root=root, out=out, refs=refs)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _spec(node: dict[str, Any], path: str, required: bool) -> FieldSpec:
    declared = node.get("type")
    types = [declared] if isinstance(declared, str) else list(declared or [])
    return FieldSpec(
        path=path,
        required=required,
        types=tuple(sorted(types, key=_type_rank)),
        constraints={k: v for k, v in node.items() if k not in STRUCTURE and k not in ANNOTATIONS}
        | _open_schema(node),
        annotations={k: node[k] for k in ANNOTATIONS if k in node},
        closed=_closed(node, types),
    )


def _type_rank(name: str) -> int:
    return JSON_TYPES.index(name) if name in JSON_TYPES else len(JSON_TYPES)


def _closed(node: dict[str, Any], types: list[str]) -> bool | None:
    if "object" not in types and "properties" not in node:
        return None
    return node.get("additionalProperties") is False or node.get("unevaluatedProperties") is False


def _open_schema(node: dict[str, Any]) -> dict[str, Any]:
    """``additionalProperties`` given as a schema constrains the extra fields: keep it as a constraint."""
    return {
        k: node[k] for k in ("additionalProperties", "unevaluatedProperties") if isinstance(node.get(k), dict)
    }


def _resolve(
    node: Any, root: dict[str, Any], refs: tuple[str, ...]
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Inline a local ``$ref`` (merged with its siblings); a recursive one stays as written."""
    if not isinstance(node, dict):
        return ({} if node is True else {"not": {}}), refs
    ref = node.get("$ref")
    if not isinstance(ref, str) or ref in refs or not ref.startswith("#/"):
        return node, refs
    target = _pointer(root, ref[2:])
    if not isinstance(target, dict):
        return node, refs
    siblings = {k: v for k, v in node.items() if k != "$ref"}
    return _resolve({**target, **siblings}, root, (*refs, ref))


def _pointer(root: Any, pointer: str) -> Any:
    node = root
    for part in pointer.split("/"):
        key = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _merge_plain_union(node: dict[str, Any]) -> dict[str, Any]:
    """``{"anyOf": [{"type": "string", "minLength": 1}, {"type": "null"}]}`` → one node of two types."""
    branches = node.get("anyOf")
    if not isinstance(branches, list) or "type" in node or not all(_plain(b) for b in branches):
        return node
    keywords = [k for branch in branches for k in branch if k != "type"]
    types = [branch["type"] for branch in branches]
    if len(set(keywords)) != len(keywords) or len(set(types)) != len(types):
        return node
    merged = {k: v for branch in branches for k, v in branch.items() if k != "type"}
    rest = {k: v for k, v in node.items() if k != "anyOf"}
    return {**rest, **merged, "type": types}


def _plain(branch: Any) -> bool:
    if not isinstance(branch, dict) or not isinstance(branch.get("type"), str):
        return False
    return branch["type"] not in ("object", "array") and not any(
        k in branch for k in ("anyOf", "oneOf", "allOf", "not", "$ref", "if")
    )


_KEYWORD_ORDER = {
    name: rank
    for rank, name in enumerate(
        ["exclusiveMinimum", "minimum", "exclusiveMaximum", "maximum", "minLength", "maxLength", "minItems"]
    )
}


def iter_types(spec: FieldSpec) -> Iterator[str]:
    """The JSON types a field accepts, ``number`` standing for integers too (strict: 2.0 is a number)."""
    yield from spec.types
    if "number" in spec.types:
        yield "integer"
