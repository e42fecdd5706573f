"""The contract an HTTP request addresses, recorded exactly as the client wrote it in the request target.

ASGI servers give the path percent-decoded, with bytes that are not UTF-8 replaced by U+FFFD: two different
names (``caf%FF`` and ``caf%FE``) would be recorded as the same ``caf\\ufffd``. The names are read from the
raw path instead (``scope["raw_path"]``), each segment decoded on its own:

- a segment whose bytes are UTF-8 is its text: ``caf%C3%A9`` → ``café``;
- otherwise, and whenever the text holds ``%`` or ``@``, the bytes that are not UTF-8 and those two
  characters are percent-escaped, the rest kept: ``caf%FF`` → ``caf%FF``, ``50%25`` → ``50%25``,
  ``a%40b`` → ``a%40b``.

So the recording is injective: a name with ``%`` in it is always an escaped one, and ``@`` never appears in
a name or a version, so ``NAME@VERSION`` (which failure ids are made of) names exactly one address.
Routing itself is unchanged: it follows the decoded path, as the framework's router does.
"""

from collections.abc import MutableMapping
from typing import Any
from urllib.parse import unquote_to_bytes

INGEST_PREFIX = "/v1/ingest/"
_ESCAPED = frozenset("%@")


def ingest_address(scope: MutableMapping[str, Any]) -> tuple[str, str] | None:
    """``/v1/ingest/shipment/1`` → ``("shipment", "1")``, as addressed; None for any other path."""
    path: str = scope["path"]
    if not path.startswith(INGEST_PREFIX):
        return None
    contract, slash, version = path[len(INGEST_PREFIX) :].partition("/")
    if not contract or not slash or not version or "/" in version:
        return None
    return addressed(scope, contract, version)


def addressed(scope: MutableMapping[str, Any], contract: str, version: str) -> tuple[str, str]:
    """The last two segments of the raw path, as :func:`segment_text` records them; without a raw path
    (it is optional in ASGI), the decoded ``contract`` and ``version`` the router matched."""
    raw = scope.get("raw_path")
    if not isinstance(raw, bytes):
        return contract, version
    segments = raw.partition(b"?")[0].split(b"/")
    return segment_text(segments[-2]), segment_text(segments[-1])


def segment_text(segment: bytes) -> str:
    """One raw path segment, percent-decoded, with what is not UTF-8 (and ``%``, ``@``) escaped again."""
    text = unquote_to_bytes(segment).decode("utf-8", errors="surrogateescape")
    return "".join(_escape(char) for char in text) if _needs_escape(text) else text


def _needs_escape(text: str) -> bool:
    return any(char in _ESCAPED or "\udc80" <= char <= "\udcff" for char in text)


def _escape(char: str) -> str:
    if "\udc80" <= char <= "\udcff":
        return f"%{ord(char) - 0xDC00:02X}"
    return f"%{ord(char):02X}" if char in _ESCAPED else char
