"""The Source protocol: batches of envelopes in, and an acknowledgement once a batch is stored."""

from collections.abc import Iterator, Sequence
from typing import Protocol

from sigma_aetl.core.envelope import Envelope


class Source(Protocol):
    """A stream of envelopes delivered in batches."""

    def batches(self) -> Iterator[Sequence[Envelope]]:
        """Yield batches of envelopes in arrival order."""
        ...

    def ack(self, batch: Sequence[Envelope]) -> None:
        """Called only after ``batch`` is durably stored (a Kafka source commits offsets here)."""
        ...
