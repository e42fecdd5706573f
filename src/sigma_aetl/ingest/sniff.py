"""Tell JSON Lines text from what is clearly not text, by the first bytes of an input.

``ingest`` refuses such an input unless forced: a gzip file ingested line by line would store thousands
of meaningless failure records (nothing lost, but nothing useful), where the operator only forgot to
decompress it. The check is deliberately plain: known compression and archive magic bytes, a UTF-16 byte
order mark, a NUL byte, or bytes that are not UTF-8.
"""

import codecs

from sigma_aetl.core.value import value


@value
class NotText:
    """What an input looks like instead of JSON Lines text, and why."""

    looks_like: str
    """``gzip-compressed data``, ``binary data``, ..."""
    evidence: str
    """What gave it away: the magic bytes, the offset of a NUL byte, ..."""
    decompress: str | None = None
    """A command that turns it into text on stdout (``zcat``), when one is known."""


_MAGIC: tuple[tuple[bytes, str, str], ...] = (
    (b"\x1f\x8b", "gzip-compressed data", "zcat"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed data", "zstdcat"),
    (b"\xfd7zXZ\x00", "xz-compressed data", "xzcat"),
    (b"PK\x03\x04", "a zip archive", "unzip -p"),
    (b"PK\x05\x06", "a zip archive (an empty one)", "unzip -p"),
)
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "UTF-32"),  # before UTF-16's: the UTF-16 LE mark is a prefix of it
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def not_text(head: bytes, *, whole: bool) -> NotText | None:
    """Why ``head``, the first bytes of an input, is not JSON Lines text; None when it may be.

    ``whole`` says ``head`` is the entire input; otherwise a character cut at its end is not an error.
    """
    for magic, kind, command in _MAGIC:
        if head.startswith(magic):
            return NotText(kind, f"it starts with the {_hex(magic)} magic bytes", command)
    if head.startswith(b"BZh") and head[3:4].isdigit() and head[3:4] != b"0":
        return NotText("bzip2-compressed data", "it starts with the bzip2 magic bytes 42 5a 68", "bzcat")
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            convert = f"iconv -f {encoding} -t UTF-8"
            return NotText(f"{encoding} text", f"it starts with a {encoding} byte order mark", convert)
    nul = head.find(b"\x00")
    if nul >= 0:
        return NotText("binary data", f"a NUL byte at offset {nul}")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=whole)
    except UnicodeDecodeError as exc:
        evidence = f"bytes that are not UTF-8 at offset {exc.start}"
        return NotText("text that is not UTF-8, or binary data", evidence)
    return None


def _hex(data: bytes) -> str:
    return " ".join(f"{byte:02x}" for byte in data)
