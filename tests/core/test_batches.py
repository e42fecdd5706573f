"""The batch splitters never raise, decide the same way every time, and account for every input byte."""

from collections.abc import Callable

import pytest
from hypothesis import given

from sigma_aetl.core.batches import split_array, split_lines, split_sequence
from strategies import batch_bodies

Splitter = Callable[[bytes], list[bytes]]
SEPARATORS: dict[str, tuple[Splitter, bytes]] = {
    "ndjson": (split_lines, b" \t\r\n"),
    "json-seq": (split_sequence, b"\x1e \t\r\n"),
}


def unaccounted(body: bytes, events: list[bytes], separators: bytes) -> bytes:
    """The bytes of ``body`` outside ``events`` (found in order, without overlap) that are no separator."""
    gaps, position = b"", 0
    for event in events:
        start = body.find(event, position)
        assert start >= 0, (event, body)
        gaps += body[position:start]
        position = start + len(event)
    gaps += body[position:]
    return gaps.translate(None, separators)


@pytest.mark.parametrize("form", sorted(SEPARATORS))
@given(body=batch_bodies)
def test_line_forms_account_for_every_byte(form: str, body: bytes) -> None:
    """Every byte of an NDJSON or JSON-seq body is in an event, in order, or is a separator."""
    split, separators = SEPARATORS[form]
    events = split(body)
    assert events == split(body)
    assert all(event.strip(b" \t\r\n") for event in events)
    assert unaccounted(body, events, separators) == b""


@given(body=batch_bodies)
def test_array_split_accounts_for_every_byte(body: bytes) -> None:
    """An array's elements are its exact bytes, in order; the rest is brackets, commas and whitespace."""
    elements = split_array(body)
    assert elements == split_array(body)
    if elements is not None:
        assert unaccounted(body, elements, b"[], \t\r\n") == b""
        assert all(elements)


def test_json_seq_follows_rfc_7464() -> None:
    """Records lose their RS and LF; repeated RS and blank records carry no event; stray bytes fail alone."""
    body = b'junk\x1e{"a":1}\n\x1e\x1e\x1e  \n\x1e[2]\r\n\x1e"cut'
    assert split_sequence(body) == [b"junk", b'{"a":1}', b"[2]", b'"cut']
