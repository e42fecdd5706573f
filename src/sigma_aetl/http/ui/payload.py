"""A failure's raw payload as the record page shows it: the bytes exactly as received, never reinterpreted.

Valid UTF-8 is shown as text (the template escapes it, so ``<script>`` in a payload is shown, not run);
other bytes (stored base64) as a hex dump, sixteen bytes a line with their offset and printable ASCII.
Without ``read:raw`` nothing of the bytes is shown, only their size and hash, as the JSON API masks them
(``http/masking.py``). What is shown is bounded (:data:`MAX_TEXT`, :data:`MAX_HEX`): the page says when it
shows a prefix, and where the whole bytes are served.
"""

from dataclasses import dataclass
from typing import Literal

from sigma_aetl.core.records import RawPayload

MAX_TEXT = 256 * 1024
"""The most characters of a UTF-8 payload a page shows."""
MAX_HEX = 16 * 1024
"""The most bytes of a non-UTF-8 payload a page shows as hex (a line of 16 bytes is ~76 characters)."""
Shown = Literal["text", "hex", "masked", "omitted"]


@dataclass(frozen=True, slots=True)
class PayloadView:
    """What the page shows of one raw payload."""

    kind: Shown
    text: str
    """The text, or the hex dump; empty when masked."""
    size: int
    sha256: str
    truncated: bool
    """Only a prefix was kept when it arrived (a body over the hard limit)."""
    cut: bool
    """The page shows a prefix of what is stored (over :data:`MAX_TEXT` or :data:`MAX_HEX`)."""


def payload_view(raw: RawPayload, reveal: bool) -> PayloadView:
    """The view of ``raw``; masked unless ``reveal``."""
    if not reveal:
        return PayloadView("masked", "", raw.size, raw.sha256, raw.truncated, cut=False)
    if raw.encoding == "omitted":
        return PayloadView("omitted", "", raw.size, raw.sha256, raw.truncated, cut=False)
    if raw.encoding == "utf-8":
        text = raw.text[:MAX_TEXT]
        return PayloadView("text", text, raw.size, raw.sha256, raw.truncated, cut=len(text) < len(raw.text))
    data = raw.to_bytes()
    dump = hex_dump(data[:MAX_HEX])
    return PayloadView("hex", dump, raw.size, raw.sha256, raw.truncated, cut=len(data) > MAX_HEX)


def hex_dump(data: bytes) -> str:
    """``data`` as lines of ``offset  hex bytes  |ascii|``, sixteen bytes a line."""
    lines = []
    for offset in range(0, len(data), 16):
        chunk = data[offset : offset + 16]
        hexes = " ".join(f"{byte:02x}" for byte in chunk)
        text = "".join(chr(byte) if 0x20 <= byte < 0x7F else "." for byte in chunk)
        lines.append(f"{offset:08x}  {hexes:<47}  |{text}|")
    return "\n".join(lines)
