"""JSON for the core's dataclasses: orjson writes them on the hot path, Pydantic reads them back.

:func:`dumps` gives the same bytes Pydantic would (field order, ``Z`` for UTC, compact separators); only
integers beyond 64 bits, which orjson refuses, take Pydantic's encoder instead.
"""

from typing import Any, TypeVar

import orjson
import pydantic_core
from pydantic import TypeAdapter

T = TypeVar("T")

_OPTIONS = orjson.OPT_UTC_Z


def dumps(value: Any) -> bytes:
    """Compact JSON of dataclasses, dicts, lists, enums and datetimes; integers of any size."""
    try:
        return orjson.dumps(value, option=_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError: an integer beyond 64 bits (or a type orjson lacks)
        return pydantic_core.to_json(value)


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON types (dicts, lists, strings, numbers), like ``model_dump(mode="json")``."""
    return pydantic_core.to_jsonable_python(value)


_ADAPTERS: dict[type, TypeAdapter[Any]] = {}


def adapter(kind: type[T]) -> TypeAdapter[T]:
    """The (cached) Pydantic adapter that validates, reads and describes ``kind``."""
    found = _ADAPTERS.get(kind)
    if found is None:
        found = _ADAPTERS[kind] = TypeAdapter(kind)
    return found


def loads(kind: type[T], data: bytes | str) -> T:
    """Read a ``kind`` back from its JSON; raises pydantic.ValidationError if it is not one."""
    return adapter(kind).validate_json(data)


def load(kind: type[T], value: Any) -> T:
    """Read a ``kind`` back from plain JSON types; raises pydantic.ValidationError if it is not one."""
    return adapter(kind).validate_python(value)
