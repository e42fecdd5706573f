"""Read a request body without ever holding more than the hard limit in memory."""

from collections.abc import AsyncIterator
from dataclasses import dataclass

from sigma_aetl.settings import PREFIX_KEPT


@dataclass(frozen=True, slots=True)
class TooLarge:
    """A body over the limit: its first bytes and its size, as declared or as far as it was read."""

    prefix: bytes
    size: int


async def read_body(
    chunks: AsyncIterator[bytes], limit: int, declared: int | None = None
) -> bytes | TooLarge:
    """The whole body, or :class:`TooLarge` as soon as it passes ``limit`` bytes."""
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        parts.append(chunk)
        size += len(chunk)
        if size > limit:
            return TooLarge(b"".join(parts)[:PREFIX_KEPT], max(size, declared or 0))
    return parts[0] if len(parts) == 1 else b"".join(parts)
