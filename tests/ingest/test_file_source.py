"""JSON Lines files as a source: exact line bytes, positions, blank lines skipped, batches."""

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sigma_aetl.ingest.files import FileSource

Clock = Callable[[], datetime]


def source(path: Path, clock: Clock, **options: int) -> FileSource:
    """A source for shipment@1 reading ``path`` with the fixed clock."""
    return FileSource(path, "shipment", "1", clock=clock, **options)


def write(tmp_path: Path, data: bytes) -> Path:
    """Write ``data`` to a file and return its path."""
    path = tmp_path / "events.jsonl"
    path.write_bytes(data)
    return path


def test_lines_become_envelopes_with_exact_bytes(tmp_path: Path, clock: Clock) -> None:
    """Each line's bytes are kept exactly, minus \\n or \\r\\n: trailing spaces and invalid UTF-8 included."""
    data = b'{"a": 1}\n{"b": 2}  \r\n\xff\xfe not utf-8\n  {"c": 3}\t\n{"last": true}'
    envelopes = list(source(write(tmp_path, data), clock).envelopes())
    assert [e.raw for e in envelopes] == [
        b'{"a": 1}',
        b'{"b": 2}  ',
        b"\xff\xfe not utf-8",
        b'  {"c": 3}\t',
        b'{"last": true}',
    ]


def test_envelopes_are_addressed_and_timestamped(tmp_path: Path, clock: Clock) -> None:
    """Every envelope names the source's contract and version and the clock's time."""
    (envelope,) = source(write(tmp_path, b"{}\n"), clock).envelopes()
    assert (envelope.contract, envelope.version, envelope.contract_ref) == ("shipment", "1", "shipment@1")
    assert envelope.received_at == clock()
    assert envelope.idempotency_key is None
    assert envelope.transport_identity is None


def test_source_metadata_has_line_numbers_and_byte_offsets(tmp_path: Path, clock: Clock) -> None:
    """Source metadata gives the path, the 1-based line number and the byte offset where the line starts."""
    data = b'{"a": 1}\r\n\n  \n{"b": "\xc3\xa9"}\n{"c": 3}\n'
    path = write(tmp_path, data)
    envelopes = list(source(path, clock).envelopes())
    assert [e.source for e in envelopes] == [
        {"kind": "file", "path": str(path), "line": 1, "offset": 0},
        {"kind": "file", "path": str(path), "line": 4, "offset": 14},
        {"kind": "file", "path": str(path), "line": 5, "offset": 26},
    ]
    for envelope in envelopes:
        offset = envelope.source["offset"]
        assert data[offset : offset + len(envelope.raw)] == envelope.raw


def test_blank_lines_are_skipped_and_counted(tmp_path: Path, clock: Clock) -> None:
    """Empty and whitespace-only lines (including a lone \\r) carry no event and are counted as skipped."""
    data = b'\n{"a": 1}\n\r\n \t \n{"b": 2}\n\n'
    reader = source(write(tmp_path, data), clock)
    assert [e.raw for e in reader.envelopes()] == [b'{"a": 1}', b'{"b": 2}']
    assert reader.skipped == 4
    assert reader.bytes_read == len(data)


def test_empty_file_yields_nothing(tmp_path: Path, clock: Clock) -> None:
    """An empty file gives no envelopes and no batches."""
    reader = source(write(tmp_path, b""), clock)
    assert list(reader.batches()) == []
    assert (reader.skipped, reader.bytes_read) == (0, 0)


def test_crlf_only_strips_the_terminator(tmp_path: Path, clock: Clock) -> None:
    """A \\r that is not part of the line terminator stays in the bytes."""
    data = b'{"a": "x"}\r\r\n{"b": 1}\r'
    assert [e.raw for e in source(write(tmp_path, data), clock).envelopes()] == [
        b'{"a": "x"}\r',
        b'{"b": 1}\r',
    ]


@pytest.mark.parametrize(("size", "shape"), [(1, [1] * 5), (2, [2, 2, 1]), (5, [5]), (100, [5])])
def test_batches(tmp_path: Path, clock: Clock, size: int, shape: list[int]) -> None:
    """Envelopes come in batches of batch_size, the last one possibly shorter, in file order."""
    data = b"".join(b'{"n": %d}\n' % n for n in range(5))
    batches = list(source(write(tmp_path, data), clock, batch_size=size).batches())
    assert [len(batch) for batch in batches] == shape
    assert [e.raw for batch in batches for e in batch] == [b'{"n": %d}' % n for n in range(5)]


def test_reading_again_starts_from_the_beginning(tmp_path: Path, clock: Clock) -> None:
    """A file has nothing to acknowledge: reading it again yields the same events from the start."""
    reader = source(write(tmp_path, b"{}\n"), clock)
    (batch,) = reader.batches()
    assert [e.raw for e in batch] == [b"{}"]
    assert [e.raw for e in reader.envelopes()] == [b"{}"]


def test_the_clock_is_read_once_per_batch(tmp_path: Path) -> None:
    """The events of one batch share one reading of the clock; the next batch reads it again."""
    readings = iter(datetime(2024, 1, 1, 0, 0, second, tzinfo=UTC) for second in range(10))
    path = write(tmp_path, b"{}\n{}\n\n{}\n{}\n{}\n")
    batches = list(source(path, lambda: next(readings), batch_size=2).batches())
    assert [[e.received_at.second for e in batch] for batch in batches] == [[0, 0], [1, 1], [2]]
