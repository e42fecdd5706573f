"""The body reader alone: whole bodies, bodies over the limit read on to their end, and slow bodies."""

import asyncio
import hashlib
from collections.abc import AsyncIterator

from sigma_aetl.http.body import BodyLimits, TimedOut, TooLarge, read_body
from sigma_aetl.settings import PREFIX_KEPT

LIMITS = BodyLimits(max_bytes=100, timeout=5.0, drain=5.0)


async def pieces(*parts: bytes, pause: float = 0.0, stall_after: int | None = None) -> AsyncIterator[bytes]:
    """``parts`` one by one, ``pause`` seconds apart; stalling for good after ``stall_after`` of them."""
    for count, part in enumerate(parts):
        if count == stall_after:
            await asyncio.Event().wait()
        await asyncio.sleep(pause)
        yield part


def test_a_body_within_the_limit_is_returned_whole() -> None:
    """A body within the limit comes back as its bytes, however it was chunked."""
    assert asyncio.run(read_body(pieces(b"ab", b"cd"), LIMITS)) == b"abcd"


def test_a_body_over_the_limit_is_read_to_its_end() -> None:
    """A body over the limit keeps its first bytes and learns its whole size and SHA-256."""
    body = bytes(range(256)) * 400
    parts = [body[i : i + 999] for i in range(0, len(body), 999)]
    read = asyncio.run(read_body(pieces(*parts), LIMITS))
    assert read == TooLarge(body[:PREFIX_KEPT], len(body), hashlib.sha256(body).hexdigest())


def test_a_body_over_the_limit_still_arriving_is_size_unknown_or_as_declared() -> None:
    """When the drain bound runs out, the size is the declared one if any, else unknown."""
    limits = BodyLimits(max_bytes=100, timeout=5.0, drain=0.05)
    chunked = asyncio.run(read_body(pieces(b"x" * 150, b"y", stall_after=1), limits))
    declared = asyncio.run(read_body(pieces(b"x" * 150, b"y", stall_after=1), limits, declared=9000))
    assert chunked == TooLarge(b"x" * 150, None)
    assert chunked.size_unknown
    assert declared == TooLarge(b"x" * 150, 9000)


def test_a_body_that_never_finishes_times_out() -> None:
    """A body whose end does not come within the body timeout is TimedOut, with the bound it broke."""
    limits = BodyLimits(max_bytes=100, timeout=0.05, drain=5.0)
    assert asyncio.run(read_body(pieces(b"{", b"}", stall_after=1), limits)) == TimedOut(0.05)
