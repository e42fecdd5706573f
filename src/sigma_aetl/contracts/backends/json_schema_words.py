"""A subschema in a few words, and where an error's subschema sits, for explanations of combinators.

An ``anyOf`` failure reads ``expected any of (1) a string (at least 3 character(s)), (2) an integer
(>= 10)``, a ``not`` one ``expected a value that is not an integer``. The words are made from the
contract's schema as written, never from the compiled one, so a reserved keyword the backend adds
(``x-sigma-strict-integer``) is never shown; a subschema too intricate for a few words is named by its
location instead (``the schema at /properties/box/anyOf/1``).
"""

from collections.abc import Mapping, Sequence
from typing import Any

from sigma_aetl.core.explain import TYPE_WORDS, constraint_words
from sigma_aetl.core.rule_kinds import resolve_ref

_MAX_WORDS = 100
_CONSTRAINTS = (
    *("format", "multipleOf", "minLength", "maxLength", "minItems", "maxItems", "minProperties"),
    *(
        "maxProperties",
        "minimum",
        "exclusiveMinimum",
        "maximum",
        "exclusiveMaximum",
        "pattern",
        "uniqueItems",
    ),
)
_REFERENCES = ("$ref", "$dynamicRef")


def describe(root: Mapping[str, Any], node: Any, location: str, depth: int = 0) -> str:
    """``node`` in words (``an integer (>= 10)``, ``one of "a", "b"``), or its location when it says more
    than a few words can."""
    words = _words(root, node, depth)
    if words is None or len(words) > _MAX_WORDS:
        return f"the schema at {location or 'the root'}"
    return words


def _words(root: Mapping[str, Any], node: Any, depth: int) -> str | None:
    if node is True or node == {}:
        return "any value"
    if node is False:
        return "nothing"
    if not isinstance(node, Mapping) or depth > 2:
        return None
    node = _resolved(root, node)
    if "const" in node:
        return constraint_words("const", node["const"])
    if "enum" in node:
        return constraint_words("enum", node["enum"])
    for keyword, joiner in (("anyOf", " or "), ("oneOf", " or "), ("allOf", " and ")):
        if isinstance(node.get(keyword), list) and len(node) == 1:
            parts = [_words(root, branch, depth + 1) for branch in node[keyword]]
            return None if None in parts else joiner.join(str(part) for part in parts)
    if set(node) == {"not"}:
        inner = _words(root, node["not"], depth + 1)
        return None if inner is None else f"not {inner}"
    return _typed_words(root, node, depth)


def _typed_words(root: Mapping[str, Any], node: Mapping[str, Any], depth: int) -> str | None:
    """``a string (at least 3 character(s))``, ``an object (id: a string; requires id)``, ``an array
    (items: an integer)``."""
    types = node.get("type")
    names = [types] if isinstance(types, str) else types if isinstance(types, list) else []
    kind = " or ".join(TYPE_WORDS.get(name, name) for name in names)
    kind = kind or ("an object" if "properties" in node or "required" in node else "a value")
    details = [constraint_words(k, node[k]) for k in _CONSTRAINTS if k in node and k != "uniqueItems"]
    if node.get("uniqueItems") is True:
        details.append(constraint_words("uniqueItems", True))
    for keyword in ("properties", "items"):
        inner = _inner_words(root, node, keyword, depth)
        if inner is None:
            return None
        details.extend(inner)
    if isinstance(node.get("required"), list) and node["required"]:
        details.append("requires " + ", ".join(str(name) for name in node["required"]))
    described = {"type", "required", "properties", "items", "title", "description", "default", "examples"}
    if any(key not in described and key not in _CONSTRAINTS for key in node):
        return None  # properties, combinators beside a type...: more than words say
    return f"{kind} ({'; '.join(details)})" if details else kind


def _inner_words(
    root: Mapping[str, Any], node: Mapping[str, Any], keyword: str, depth: int
) -> list[str] | None:
    """``items: an integer``; ``id: a string`` for each of up to three properties; None when too intricate."""
    if keyword not in node:
        return []
    inner = node[keyword]
    named = inner.items() if keyword == "properties" and isinstance(inner, Mapping) else [(keyword, inner)]
    if len(named) > 3:
        return None
    words = [(name, _words(root, child, depth + 1)) for name, child in named]
    return None if any(w is None for _, w in words) else [f"{name}: {w}" for name, w in words]


def _resolved(root: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    """A node that only refers (``{"$ref": "#/$defs/Item"}``) read as what it refers to."""
    if set(node) == {"$ref"}:
        return resolve_ref(root, node)
    return node


def schema_trail(root: Mapping[str, Any], start: Any, path: Sequence[str | int]) -> list[Any]:
    """The subschema before each step of an error's ``evaluation_path`` from ``start``, then the one it
    leads to (None where it leads nowhere), following ``$ref`` and ``$dynamicRef`` into ``root``."""
    trail = [start]
    for step in path:
        trail.append(_step(root, trail[-1], step))
    return trail


def _step(root: Mapping[str, Any], node: Any, step: str | int) -> Any:
    if step in _REFERENCES and isinstance(node, Mapping):
        return _referenced(root, node, str(step))
    if isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
        return node[step]
    if isinstance(node, Mapping):
        return node.get(str(step), _numeric_key(node, step))
    return None


def _referenced(root: Mapping[str, Any], node: Mapping[str, Any], keyword: str) -> Any:
    ref = node.get(keyword)
    if isinstance(ref, str) and ref.startswith("#/"):
        return resolve_ref(root, {"$ref": ref})
    name = ref.removeprefix("#") if isinstance(ref, str) else None
    anchors = ("$anchor", "$dynamicAnchor")
    return next(
        (n for n in _nodes(root) if name is not None and any(n.get(a) == name for a in anchors)), None
    )


def _nodes(node: Any) -> list[Mapping[str, Any]]:
    if isinstance(node, list):
        return [found for item in node for found in _nodes(item)]
    if not isinstance(node, Mapping):
        return []
    return [node, *(found for value in node.values() for found in _nodes(value))]


def _numeric_key(node: Mapping[str, Any], step: str | int) -> Any:
    """jsonschema-rs gives a key that reads as a number (``"0"``, ``"00"``) as that number."""
    if isinstance(step, int):
        for key, value in node.items():
            digits = key.removeprefix("+")
            if digits.isascii() and digits.isdigit() and int(digits) == step:
                return value
    return None
