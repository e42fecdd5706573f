"""Read a request body without ever holding more than the hard limit in memory."""

from dataclasses import dataclass

from fastapi import Request

PREFIX_KEPT = 65_536
"""How much of an over-limit body a failure record keeps."""


@dataclass(frozen=True, slots=True)
class TooLarge:
    """A body over the limit: its first bytes and its size, as declared or as far as it was read."""

    prefix: bytes
    size: int


async def read_body(request: Request, limit: int) -> bytes | TooLarge:
    """The whole body, or :class:`TooLarge` as soon as it passes ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    declared_size = int(declared) if declared.isdigit() else None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            prefix = b"".join(chunks)[:PREFIX_KEPT]
            return TooLarge(prefix, max(size, declared_size or 0))
    return b"".join(chunks)
