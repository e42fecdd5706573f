"""The subschemas of a JSON Schema document, and their locations as JSON Pointers (RFC 6901)."""

from collections.abc import Iterator
from typing import Any

SUBSCHEMA = (
    "additionalProperties",
    "items",
    "contains",
    "propertyNames",
    "not",
    "if",
    "then",
    "else",
    "unevaluatedItems",
    "unevaluatedProperties",
    "contentSchema",
)
SUBSCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")


def walk(schema: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every subschema object, with its location as an RFC 6901 JSON Pointer (``/properties/a~1b``)."""
    if not isinstance(schema, dict):
        return
    yield path, schema
    for keyword, key, child in children(schema):
        yield from walk(child, path + pointer(keyword, key))


Key = str | int | None
"""Where a subschema sits under its keyword: a map's key, a list's index, or nothing (the keyword's value)."""


def children(schema: dict[str, Any]) -> Iterator[tuple[str, Key, Any]]:
    """The direct subschemas of ``schema``, each with its keyword and its key or index under it. Keys are
    kept whole, never split or re-joined: a property may be called ``a/b`` or ``~1``."""
    for keyword in SUBSCHEMA:
        if isinstance(schema.get(keyword), dict):
            yield keyword, None, schema[keyword]
    for keyword in SUBSCHEMA_MAPS:
        for key, child in (schema.get(keyword) or {}).items():
            yield keyword, key, child
    for keyword in SUBSCHEMA_LISTS:
        for index, child in enumerate(schema.get(keyword) or []):
            yield keyword, index, child


def pointer(*steps: Key) -> str:
    """JSON Pointer steps (RFC 6901): ``~`` is written ``~0`` and ``/`` is written ``~1``."""
    escaped = (str(step).replace("~", "~0").replace("/", "~1") for step in steps if step is not None)
    return "".join(f"/{step}" for step in escaped)
