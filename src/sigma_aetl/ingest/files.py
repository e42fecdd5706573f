"""A JSON Lines file as a source: one event per line, streamed, never loaded whole.

Each line's bytes are kept exactly as they are in the file, minus the line terminator (``\\n`` or
``\\r\\n``). Lines that are empty or only whitespace carry no event and are counted as skipped. Every
event is stamped with the time its batch was read: the clock is read once per ``batch_size`` events (a
batch is read in about a millisecond, and a reading per line was 4% of the ingest loop).
"""

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from sigma_aetl.core.envelope import Envelope
from sigma_aetl.settings import TRANSACTION_SIZE

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


class FileSource:
    """Events from a JSON Lines file, addressed to one contract version."""

    def __init__(
        self,
        path: Path,
        contract: str,
        version: str,
        *,
        batch_size: int = TRANSACTION_SIZE,
        clock: Clock = utc_now,
    ) -> None:
        self.path = path
        self.contract = contract
        self.version = version
        self.batch_size = batch_size
        self.clock = clock
        self.skipped = 0
        self.bytes_read = 0

    def batches(self) -> Iterator[Sequence[Envelope]]:
        """Yield envelopes ``batch_size`` at a time."""
        batch: list[Envelope] = []
        for envelope in self.envelopes():
            batch.append(envelope)
            if len(batch) >= self.batch_size:
                yield batch
                batch = []
        if batch:
            yield batch

    def envelopes(self) -> Iterator[Envelope]:
        """One envelope per non-blank line; the counters describe the latest read."""
        self.skipped = self.bytes_read = 0
        name = str(self.path)
        with self.path.open("rb") as handle:
            offset, stamped, received_at = 0, 0, self.clock()
            for number, line in enumerate(handle, start=1):
                start, offset = offset, offset + len(line)
                self.bytes_read = offset
                raw = _strip_terminator(line)
                if not raw.strip(b" \t\r\n"):  # JSON whitespace only; a form feed is a (bad) event
                    self.skipped += 1
                    continue
                if stamped == self.batch_size:
                    stamped, received_at = 0, self.clock()
                stamped += 1
                yield Envelope(
                    raw=raw,
                    contract=self.contract,
                    version=self.version,
                    received_at=received_at,
                    source={"kind": "file", "path": name, "line": number, "offset": start},
                )


def _strip_terminator(line: bytes) -> bytes:
    if line.endswith(b"\r\n"):
        return line[:-2]
    if line.endswith(b"\n"):
        return line[:-1]
    return line
