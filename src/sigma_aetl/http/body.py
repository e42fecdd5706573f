"""Read a request body without ever holding more than the hard limit in memory, nor waiting for it forever.

Three bounds, each a setting:

- ``max_request_bytes``: a body over it is not kept. Its first bytes are, and the rest is read on and
  discarded, only counted and hashed, so its failure records the body's whole size and SHA-256 — the same
  on every retry of the same upload, however the client chunks it (what was read when the limit passed
  depends on chunk boundaries, and would give each retry another size and another failure id).
- ``oversize_drain_timeout``: how long that reading on may take. A body still arriving then is recorded
  as ``size_unknown``: its declared ``Content-Length`` if it gave one, else no size at all.
- ``body_timeout``: how long the whole body may take to arrive. A client that never finishes its body is
  cut off (:class:`TimedOut`, answered 408): a half-sent body is not an event, so nothing is stored.
"""

import asyncio
import hashlib
from collections.abc import AsyncIterator, Awaitable, Coroutine, Generator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from sigma_aetl.settings import PREFIX_KEPT, Settings

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class BodyLimits:
    """The bounds on one request body."""

    max_bytes: int
    timeout: float
    """Seconds the whole body may take to arrive."""
    drain: float
    """Seconds a body over ``max_bytes`` is read on to learn its whole size."""

    @classmethod
    def of(cls, settings: Settings) -> "BodyLimits":
        """The bounds the settings state."""
        return cls(settings.max_request_bytes, settings.body_timeout, settings.oversize_drain_timeout)


@dataclass(frozen=True, slots=True)
class TooLarge:
    """A body over the limit: its first bytes, and its whole size and SHA-256 when they are known."""

    prefix: bytes
    size: int | None
    """The whole body's size: read to its end, or as declared; None when neither is known."""
    sha256: str | None = None
    """The whole body's SHA-256, when it was read to its end."""

    @property
    def size_unknown(self) -> bool:
        """Whether the body, without a declared size, was still arriving when the drain bound ran out."""
        return self.size is None


@dataclass(frozen=True, slots=True)
class TimedOut:
    """A body that had not arrived whole when the body timeout ran out."""

    timeout: float


Body = bytes | TooLarge | TimedOut


class Deadline:
    """When a request's body must have arrived, from the moment the request began."""

    __slots__ = ("at",)

    def __init__(self, seconds: float) -> None:
        self.at = asyncio.get_running_loop().time() + seconds
        """The event loop's time by which the body must have arrived."""

    async def within(self, step: Awaitable[_T]) -> _T:
        """Await ``step``; raises TimeoutError once the deadline has passed.

        A coroutine is started first, and a timer of the event loop is armed only if it has to wait: a body
        that arrived with the request's head (nearly every one) then costs no timer to arm and cancel, which
        was about 6 µs of each request's 31 on ``POST /api/validate``. A timeout only ever interrupts a
        step that waits, so the answer is the same either way."""
        if not asyncio.iscoroutine(step):
            async with asyncio.timeout_at(self.at):
                return await step
        try:
            waiting = step.send(None)
        except StopIteration as done:
            return cast(_T, done.value)
        async with asyncio.timeout_at(self.at):
            return await _Resumed(step, waiting)


class _Resumed(Generic[_T]):
    """A coroutine already started (it yielded ``waiting``), awaited on from where it stopped."""

    __slots__ = ("_coro", "_waiting")

    def __init__(self, coro: Coroutine[Any, Any, _T], waiting: object) -> None:
        self._coro = coro
        self._waiting = waiting

    def __await__(self) -> Generator[object, object, _T]:
        coro, value = self._coro, self._waiting
        while True:
            try:
                sent = yield value
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # noqa: BLE001 - a cancellation (the timeout's too) goes on into it
                try:
                    value = coro.throw(exc)
                except StopIteration as done:
                    return cast(_T, done.value)
            else:
                try:
                    value = coro.send(sent)
                except StopIteration as done:
                    return cast(_T, done.value)


async def read_body(
    chunks: AsyncIterator[bytes],
    limits: BodyLimits,
    declared: int | None = None,
    deadline: Deadline | None = None,
) -> Body:
    """The whole body; :class:`TooLarge` for one over the limit; :class:`TimedOut` for one too slow."""
    deadline = deadline or Deadline(limits.timeout)
    parts: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout_at(deadline.at):
            async for chunk in chunks:
                parts.append(chunk)
                size += len(chunk)
                if size > limits.max_bytes:
                    break
            else:
                return parts[0] if len(parts) == 1 else b"".join(parts)
    except TimeoutError:
        return TimedOut(limits.timeout)
    return await _drain(chunks, b"".join(parts), limits.drain, declared)


async def _drain(chunks: AsyncIterator[bytes], head: bytes, seconds: float, declared: int | None) -> TooLarge:
    """Read the rest of a body over the limit for at most ``seconds``, counting and hashing it, and keeping
    its first :data:`PREFIX_KEPT` bytes whatever the chunking (a limit below that passes mid-prefix)."""
    digest, size, kept = hashlib.sha256(head), len(head), bytearray(head[:PREFIX_KEPT])
    try:
        async with asyncio.timeout(seconds):
            async for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                if len(kept) < PREFIX_KEPT:
                    kept += chunk[: PREFIX_KEPT - len(kept)]
    except TimeoutError:
        return TooLarge(bytes(kept), declared)
    return TooLarge(bytes(kept), size, digest.hexdigest())
