"""Split a batch body into events, keeping each event's bytes exactly as received.

Three batch forms: NDJSON (one event per line), an RFC 7464 JSON text sequence (one event per record)
and a top-level JSON array (one event per element). An
array's element bytes are cut from the body at the element boundaries, so a failure record stores the
element exactly as the producer wrote it, not a re-serialisation.
"""

import re

_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{},]')
_WHITESPACE = b" \t\r\n"
RECORD_SEPARATOR = b"\x1e"
"""RFC 7464's RS, which opens every record of an ``application/json-seq`` body."""


def split_lines(body: bytes) -> list[bytes]:
    """NDJSON: one event per line; ``\\n`` or ``\\r\\n`` terminators removed; blank lines carry no event."""
    lines = body.split(b"\n")
    return [line.removesuffix(b"\r") for line in lines if line.strip(_WHITESPACE)]


def split_sequence(body: bytes) -> list[bytes]:
    """RFC 7464: one event per record, its opening RS and closing LF removed (``\\r\\n`` too).

    Consecutive RS bytes and blank records carry no event (RFC 7464 section 2.1). Bytes before the first
    RS are kept as an event of their own, so they fail (as a record that does not parse) instead of
    vanishing; a record that does not parse fails alone, its neighbours are judged on their own.
    """
    records = body.split(RECORD_SEPARATOR)
    events = [record.removesuffix(b"\n").removesuffix(b"\r") for record in records]
    return [event for event in events if event.strip(_WHITESPACE)]


def looks_like_array(body: bytes) -> bool:
    """Whether the body is meant as a JSON array batch (its first non-blank byte is ``[``)."""
    return body.lstrip(_WHITESPACE)[:1] == b"["


def split_array(body: bytes) -> list[bytes] | None:
    """The exact bytes of each top-level element of a JSON array, or None when the body is not one.

    The split is structural only (strings, brackets, commas); each element is validated later on its own,
    so a bad element fails alone while its neighbours are accepted.
    """
    text = body.strip(_WHITESPACE)
    if not (text.startswith(b"[") and text.endswith(b"]")):
        return None
    elements: list[bytes] = []
    depth, start = 0, 1
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
        elif token in (b"]", b"}"):
            depth -= 1
            if depth == 0 and match.end() != len(text):
                return None
        elif token == b"," and depth == 1:
            elements.append(text[start : match.start()].strip(_WHITESPACE))
            start = match.end()
        if depth < 0:
            return None
    if depth != 0:
        return None
    last = text[start:-1].strip(_WHITESPACE)
    if last or elements:
        elements.append(last)
    if not all(elements):
        return None  # `[1,]` or `[,1]`: the array itself is malformed
    return elements
