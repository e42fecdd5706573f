"""Canonical form of JSON values: the same value always gives the same bytes.

Keys are sorted at every level; values are kept exactly as parsed. Nothing is converted or dropped.
"""

import hashlib
import json
from typing import Any

import orjson

_OPTIONS = orjson.OPT_SORT_KEYS
_CONTAINERS = (dict, list)  # exact JSON types: orjson and json build only these


def canonical(value: Any) -> Any:
    """Return ``value`` with every object's keys in sorted order (a new structure; the input is untouched)."""
    if isinstance(value, dict):
        for item in value.values():
            if type(item) in _CONTAINERS:
                return {key: canonical(value[key]) for key in sorted(value)}
        return dict(sorted(value.items()))  # flat: the common case, without recursion
    if isinstance(value, list):
        return [canonical(item) for item in value]
    return value


def canonical_bytes(value: Any) -> bytes:
    """Compact JSON with sorted keys; integers beyond 64 bits use the standard library's encoder."""
    try:
        return orjson.dumps(value, option=_OPTIONS)
    except TypeError:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return text.encode("utf-8")


def sha256_hex(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()
