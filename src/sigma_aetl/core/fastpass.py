"""The compiled pass's parse: a flat JSON object, the common event, read with as little Python as possible.

Today's :func:`~sigma_aetl.core.jsonparse.parse` walks every parsed value (depth, key count, numbers).
A flat object needs none of that walk: one ``{`` and no ``[`` in the text prove there is no nested
container (every container needs one of those characters), so the depth is 1 and the key count is the
object's length; and when the bytes hold no number that may be inexact (:func:`may_be_inexact` is False,
certain), the value orjson gave is exact. :func:`flat_parsed` gives exactly what ``parse`` would, or None
whenever it cannot be sure (too large, not UTF-8, a byte order mark, not flat, not valid JSON, keys not
proven unique, a number that may be inexact): today's ``parse`` then decides, as before.
"""

import orjson

from sigma_aetl.core.jsonparse import Limits, Parsed, keys_unique_by_count
from sigma_aetl.core.numbers import may_be_inexact

_BOM = "\ufeff"


def flat_parsed(raw: bytes, limits: Limits) -> Parsed | None:
    """``parse(raw, limits)`` when ``raw`` is a flat object that parse takes as read; None: ask parse."""
    if len(raw) > limits.max_bytes or limits.max_depth < 1:
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if text.count("{") != 1 or "[" in text or text.startswith(_BOM):
        return None
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if type(value) is not dict or not keys_unique_by_count(text, len(value)) or may_be_inexact(raw):
        return None
    return Parsed(text, value)
