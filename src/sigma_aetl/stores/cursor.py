"""Record cursors: where a reader stopped in one store's stream of accepted records.

A cursor is opaque to clients: base64url (unpadded) of compact JSON such as
``{"v":1,"store":"sqlite","filters":{"contract":"shipment","version":1,"since":null,"until":null},"after":"42"}``.
It names the kind of store that issued it, the filters it was issued for (a request with other filters is
refused rather than silently reading another stream) and the position of the last record read — the SQLite
rowid, the MongoDB ``_id`` — or null when nothing was read yet. Each store parses its own positions.

It is not signed: a hand-edited position only moves where reading resumes, and a reader that may read one
record may read them all.
"""

import base64
import binascii
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import orjson

from sigma_aetl.errors import InvalidCursor
from sigma_aetl.stores.base import RecordQuery, micros

StoreKind = Literal["sqlite", "mongodb"]
_FORMAT = 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAMES: dict[str, str] = {"sqlite": "SQLite", "mongodb": "MongoDB"}
_START_OVER = "pass a next_cursor or resume_cursor exactly as received, or start without a cursor"


def issue(query: RecordQuery, store: StoreKind, after: str | None) -> str:
    """The cursor that resumes ``query``'s stream after position ``after`` (None: from the start)."""
    body = {"v": _FORMAT, "store": store, "filters": _filters(query), "after": after}
    return base64.urlsafe_b64encode(orjson.dumps(body)).rstrip(b"=").decode("ascii")


def resume(query: RecordQuery, store: StoreKind) -> str | None:
    """The position ``query.cursor`` resumes after (None: from the start); raises InvalidCursor if the
    cursor is malformed, from another kind of store, or issued for other filters."""
    if query.cursor is None:
        return None
    body = _decode(query.cursor)
    if body.get("store") != store:
        issuer = _NAMES.get(str(body.get("store")), "another kind of")
        raise InvalidCursor(f"the cursor was issued by a {issuer} store and this store is {_NAMES[store]}")
    if body.get("filters") != _filters(query):
        raise InvalidCursor(
            f"the cursor was issued for {_describe(body.get('filters'))}, but this request asks for "
            f"{_describe(_filters(query))}: repeat the filters the cursor was issued for, or start without "
            "a cursor"
        )
    after = body.get("after")
    if after is not None and not isinstance(after, str):
        raise malformed_position()
    return after


def malformed_position() -> InvalidCursor:
    """The error for a cursor whose position this store cannot have issued."""
    return InvalidCursor(f"the cursor holds no position this store issued; {_START_OVER}")


def _decode(cursor: str) -> dict[str, Any]:
    try:
        body = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):  # orjson.JSONDecodeError is a ValueError
        body = None
    if not isinstance(body, dict) or body.get("v") != _FORMAT:
        raise InvalidCursor(f"the cursor is not one this API issued; {_START_OVER}")
    return body


def _filters(query: RecordQuery) -> dict[str, Any]:
    return {
        "contract": query.contract,
        "version": query.version,
        "since": micros(query.since) if query.since is not None else None,
        "until": micros(query.until) if query.until is not None else None,
    }


def _describe(filters: object) -> str:
    if not isinstance(filters, dict):
        return "unknown filters"
    parts = [f"{name}={_shown(name, value)}" for name, value in filters.items() if value is not None]
    return ", ".join(parts) or "no filters"


def _shown(name: str, value: object) -> str:
    if name in ("since", "until") and isinstance(value, int):
        try:
            return (_EPOCH + timedelta(microseconds=value)).isoformat()
        except OverflowError:  # a hand-made cursor: say what it holds
            return str(value)
    return repr(value) if isinstance(value, str) else str(value)
