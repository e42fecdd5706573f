"""Which fields of a contract are sensitive: marked ``"x-sensitive": true`` in its JSON Schema.

A Pydantic contract marks a field with ``Field(json_schema_extra={"x-sensitive": True})``; a JSON Schema
contract writes ``"x-sensitive": true`` beside the field's type. The mark changes no decision: it tells
what leaves the gateway's trust boundary (the advisory AI never receives a sensitive value). A recursive
``$ref`` is followed once: its deeper copies are not listed.

Paths are the failure classes' normalised paths (``customer.email``, ``items[*].card``): ``properties``
add a name, ``items`` and ``prefixItems`` add ``[*]``, and ``$ref`` (to the same document), ``allOf``,
``anyOf`` and ``oneOf`` describe the same place.
"""

from typing import Any

_SAME_PLACE = ("allOf", "anyOf", "oneOf")


def sensitive_paths(schema: dict[str, Any]) -> frozenset[str]:
    """Every field path ``schema`` marks sensitive."""
    found: set[str] = set()
    _walk(schema, schema, "", found, frozenset())
    return frozenset(found)


def _walk(root: dict[str, Any], node: Any, path: str, found: set[str], refs: frozenset[str]) -> None:
    if not isinstance(node, dict):
        return
    if node.get("x-sensitive") is True and path:
        found.add(path)
    ref = node.get("$ref")
    if isinstance(ref, str) and ref not in refs:
        _walk(root, _resolve(root, ref), path, found, refs | {ref})
    for name, child in (node.get("properties") or {}).items():
        _walk(root, child, f"{path}.{name}" if path else name, found, refs)
    for child in _items(node):
        _walk(root, child, f"{path}[*]", found, refs)
    for key in _SAME_PLACE:
        for branch in node.get(key) or []:
            _walk(root, branch, path, found, refs)


def _items(node: dict[str, Any]) -> list[Any]:
    items = node.get("items")
    prefix = node.get("prefixItems")
    return [items] + (prefix if isinstance(prefix, list) else [])


def _resolve(root: dict[str, Any], ref: str) -> Any:
    """The node a local ``$ref`` (``#/$defs/Name``) names; None for any other reference."""
    if not ref.startswith("#/"):
        return None
    node: Any = root
    for part in ref[2:].split("/"):
        if not isinstance(node, dict):
            return None
        node = node.get(part.replace("~1", "/").replace("~0", "~"))
    return node
