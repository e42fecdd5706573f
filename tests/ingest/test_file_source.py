"""JSON Lines as a source: exact line bytes, positions, blank lines skipped, batches, bounded long lines,
standard input, and stopping between batches."""

import hashlib
import io
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigma_aetl.core.envelope import Envelope, Truncation
from sigma_aetl.ingest import files
from sigma_aetl.ingest.files import HEAD_BYTES, FileSource
from sigma_aetl.settings import PREFIX_KEPT

Clock = Callable[[], datetime]
Open = Callable[[Path], BinaryIO]


@pytest.fixture
def opened() -> Iterator[Open]:
    """Open files for reading; every one is closed after the test."""
    with ExitStack() as stack:
        yield lambda path: stack.enter_context(path.open("rb"))


class Pipe(io.BytesIO):
    """Bytes that cannot seek back, like standard input from a pipe."""

    def seekable(self) -> bool:
        """A pipe cannot seek."""
        return False


def source(opened: Open, path: Path, clock: Clock, **options: Any) -> FileSource:
    """A source for shipment@1 reading the file at ``path`` with the fixed clock."""
    return FileSource(opened(path), "shipment", "1", path=path, clock=clock, **options)


def write(tmp_path: Path, data: bytes) -> Path:
    """Write ``data`` to a file and return its path."""
    path = tmp_path / "events.jsonl"
    path.write_bytes(data)
    return path


def test_lines_become_envelopes_with_exact_bytes(tmp_path: Path, clock: Clock, opened: Open) -> None:
    """Each line's bytes are kept exactly, minus \\n or \\r\\n: trailing spaces and invalid UTF-8 included."""
    data = b'{"a": 1}\n{"b": 2}  \r\n\xff\xfe not utf-8\n  {"c": 3}\t\n{"last": true}'
    envelopes = list(source(opened, write(tmp_path, data), clock).envelopes())
    assert [e.raw for e in envelopes] == [
        b'{"a": 1}',
        b'{"b": 2}  ',
        b"\xff\xfe not utf-8",
        b'  {"c": 3}\t',
        b'{"last": true}',
    ]


def test_envelopes_are_addressed_and_timestamped(tmp_path: Path, clock: Clock, opened: Open) -> None:
    """Every envelope names the source's contract and version and the clock's time."""
    (envelope,) = source(opened, write(tmp_path, b"{}\n"), clock).envelopes()
    assert (envelope.contract, envelope.version, envelope.contract_ref) == ("shipment", "1", "shipment@1")
    assert envelope.received_at == clock()
    assert envelope.idempotency_key is None
    assert envelope.transport_identity is None
    assert envelope.truncated is None


def test_source_metadata_has_line_numbers_and_byte_offsets(
    tmp_path: Path, clock: Clock, opened: Open
) -> None:
    """Source metadata gives the path, the 1-based line number and the byte offset where the line starts."""
    data = b'{"a": 1}\r\n\n  \n{"b": "\xc3\xa9"}\n{"c": 3}\n'
    path = write(tmp_path, data)
    envelopes = list(source(opened, path, clock).envelopes())
    assert [e.source for e in envelopes] == [
        {"kind": "file", "path": str(path), "line": 1, "offset": 0},
        {"kind": "file", "path": str(path), "line": 4, "offset": 14},
        {"kind": "file", "path": str(path), "line": 5, "offset": 26},
    ]
    for envelope in envelopes:
        offset = envelope.source["offset"]
        assert data[offset : offset + len(envelope.raw)] == envelope.raw


def test_a_files_line_is_identified_by_path_line_and_bytes(
    tmp_path: Path, clock: Clock, opened: Open
) -> None:
    """A file's event is located at (file, path, line): identical lines differ, and so does new content."""
    path = write(tmp_path, b"bad\nbad\n")
    first, second = source(opened, path, clock).envelopes()
    assert first.location == ("file", str(path), "1")
    assert first.source_identity() == ("file", str(path), "1", "raw", hashlib.sha256(b"bad").hexdigest())
    assert second.source_identity() == ("file", str(path), "2", "raw", hashlib.sha256(b"bad").hexdigest())
    (rewritten,) = source(opened, write(tmp_path, b"worse\n"), clock).envelopes()
    assert rewritten.source_identity()[:3] == first.source_identity()[:3]
    assert rewritten.source_identity() != first.source_identity()


def test_blank_lines_are_skipped_and_counted(tmp_path: Path, clock: Clock, opened: Open) -> None:
    """Empty and whitespace-only lines (including a lone \\r) carry no event and are counted as skipped."""
    data = b'\n{"a": 1}\n\r\n \t \n{"b": 2}\n\n'
    reader = source(opened, write(tmp_path, data), clock)
    assert [e.raw for e in reader.envelopes()] == [b'{"a": 1}', b'{"b": 2}']
    assert (reader.skipped, reader.lines_read, reader.bytes_read) == (4, 6, len(data))


def test_empty_file_yields_nothing(tmp_path: Path, clock: Clock, opened: Open) -> None:
    """An empty file gives no envelopes and no batches."""
    reader = source(opened, write(tmp_path, b""), clock)
    assert list(reader.batches()) == []
    assert (reader.skipped, reader.bytes_read, reader.lines_read) == (0, 0, 0)


def test_crlf_only_strips_the_terminator(tmp_path: Path, clock: Clock, opened: Open) -> None:
    """A \\r that is not part of the line terminator stays in the bytes."""
    data = b'{"a": "x"}\r\r\n{"b": 1}\r'
    assert [e.raw for e in source(opened, write(tmp_path, data), clock).envelopes()] == [
        b'{"a": "x"}\r',
        b'{"b": 1}\r',
    ]


@pytest.mark.parametrize(("size", "shape"), [(1, [1] * 5), (2, [2, 2, 1]), (5, [5]), (100, [5])])
def test_batches(tmp_path: Path, clock: Clock, opened: Open, size: int, shape: list[int]) -> None:
    """Envelopes come in batches of batch_size, the last one possibly shorter, in file order."""
    data = b"".join(b'{"n": %d}\n' % n for n in range(5))
    batches = list(source(opened, write(tmp_path, data), clock, batch_size=size).batches())
    assert [len(batch) for batch in batches] == shape
    assert [e.raw for batch in batches for e in batch] == [b'{"n": %d}' % n for n in range(5)]


def test_the_clock_is_read_once_per_batch(tmp_path: Path, opened: Open) -> None:
    """The events of one batch share one reading of the clock; the next batch reads it again."""
    readings = iter(datetime(2024, 1, 1, 0, 0, second, tzinfo=UTC) for second in range(10))
    path = write(tmp_path, b"{}\n{}\n\n{}\n{}\n{}\n")
    batches = list(source(opened, path, lambda: next(readings), batch_size=2).batches())
    assert [[e.received_at.second for e in batch] for batch in batches] == [[0, 0], [1, 1], [2]]


def test_stop_ends_the_batches_after_the_one_yielded(tmp_path: Path, clock: Clock, opened: Open) -> None:
    """After stop(), the batch already yielded is the last one: nothing more is read from the file."""
    path = write(tmp_path, b"".join(b'{"n": %d}\n' % n for n in range(10)))
    reader = source(opened, path, clock, batch_size=3)
    batches = reader.batches()
    first = next(batches)
    reader.stop()
    assert list(batches) == []
    assert (len(first), reader.lines_read, reader.stopped, reader.exhausted) == (3, 3, True, False)


def test_a_stop_after_the_last_batch_still_reads_to_the_end(
    tmp_path: Path, clock: Clock, opened: Open
) -> None:
    """A stop asked once the last, partial batch is yielded changes nothing: the input was read whole."""
    reader = source(opened, write(tmp_path, b"{}\n{}\n\n"), clock, batch_size=5)
    batches = reader.batches()
    next(batches)
    reader.stop()
    assert list(batches) == []
    assert (reader.lines_read, reader.exhausted) == (3, True)


def test_a_long_line_keeps_its_first_bytes_with_its_size_and_hash(
    tmp_path: Path, clock: Clock, opened: Open
) -> None:
    """A line over the limit keeps its first 64 KiB and says its whole size and SHA-256; the lines around
    it are read as usual, at the right lines and offsets."""
    long = b'{"blob": "' + b"x" * 300_000 + b'"}'
    data = b'{"a": 1}\n' + long + b"\r\n" + b'{"b": 2}\n'
    path = write(tmp_path, data)
    before, big, after = source(opened, path, clock, max_line_bytes=100_000).envelopes()
    assert (before.raw, after.raw) == (b'{"a": 1}', b'{"b": 2}')
    assert big.raw == long[:PREFIX_KEPT]
    assert big.truncated is not None
    assert (big.truncated.size, big.truncated.sha256) == (len(long), hashlib.sha256(long).hexdigest())
    assert big.source == {
        "kind": "file",
        "path": str(path),
        "line": 2,
        "offset": 9,
        "line_sha256": hashlib.sha256(long).hexdigest(),
    }
    assert big.source_identity() == ("file", str(path), "2", "raw", hashlib.sha256(long).hexdigest())
    assert after.source == {"kind": "file", "path": str(path), "line": 3, "offset": 9 + len(long) + 2}


@pytest.mark.parametrize("end", [b"\n", b"\r\n", b""])
def test_the_bound_is_the_lines_bytes_whatever_its_terminator(
    tmp_path: Path, clock: Clock, opened: Open, end: bytes
) -> None:
    """A line of max_line_bytes is kept whole and one byte more is not, with either terminator or none."""
    at, over = b"a" * 100_000, b"b" * 100_001
    data = at + b"\n" + over + end
    first, second = source(opened, write(tmp_path, data), clock, max_line_bytes=100_000).envelopes()
    assert (first.raw, first.truncated) == (at, None)
    assert second.truncated == Truncation(100_001, hashlib.sha256(over).hexdigest())


def test_a_line_within_the_limit_is_read_whole(tmp_path: Path, clock: Clock, opened: Open) -> None:
    """A line of exactly max_line_bytes, with a \\r\\n terminator, is an ordinary envelope."""
    line = b"y" * 100_000
    (envelope,) = source(opened, write(tmp_path, line + b"\r\n"), clock, max_line_bytes=100_000).envelopes()
    assert (envelope.raw, envelope.truncated) == (line, None)


lines = st.lists(
    st.tuples(
        st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")),
        st.sampled_from([b"\n", b"\r\n", b""]),
    ),
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(lines=lines, chunk=st.integers(1, 7))
def test_long_lines_are_counted_and_hashed_exactly_however_they_are_chunked(
    lines: list[tuple[bytes, bytes]], chunk: int
) -> None:
    """With a tiny limit and chunk, every line's envelope holds its bytes whole or its prefix, size and
    hash, at its own offset; the total read is the input's size."""
    data = b"".join(body + end for body, end in lines)
    expected = _split(data)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(files, "PREFIX_KEPT", 4)
        patch.setattr(files, "CHUNK", chunk)
        reader = FileSource(io.BytesIO(data), "shipment", "1", path=Path("/x"), max_line_bytes=6)
        envelopes = list(reader.envelopes())
    assert reader.bytes_read == len(data)
    assert [e.source["line"] for e in envelopes] == [number for number, _, _ in expected]
    for envelope, (_, offset, body) in zip(envelopes, expected, strict=True):
        assert envelope.source["offset"] == offset
        _assert_holds(envelope, body, long=len(body) > 6)  # the bound: max(6, 4) bytes


def _split(data: bytes) -> list[tuple[int, int, bytes]]:
    """(line number, offset, bytes without terminator) of each non-blank line, the plain way."""
    found, offset = [], 0
    *ended, last = data.split(b"\n")
    for number, part in enumerate([*ended, last] if last else ended, start=1):
        ends = number <= len(ended)
        body = part[:-1] if ends and part.endswith(b"\r") else part
        if body.strip(b" \t\r\n"):
            found.append((number, offset, body))
        offset += len(part) + ends
    return found


def _assert_holds(envelope: Envelope, body: bytes, *, long: bool) -> None:
    if not long:
        assert (envelope.raw, envelope.truncated) == (body, None)
        return
    assert envelope.raw == body[:4]
    assert envelope.truncated is not None
    assert (envelope.truncated.size, envelope.truncated.sha256) == (
        len(body),
        hashlib.sha256(body).hexdigest(),
    )


def test_head_shows_the_start_without_consuming_it(tmp_path: Path, clock: Clock, opened: Open) -> None:
    """head() gives the first bytes, and the envelopes still start at the first line, file or pipe."""
    data = b"".join(b'{"n": %d}\n' % n for n in range(2000))
    from_file = source(opened, write(tmp_path, data), clock)
    from_pipe = FileSource(Pipe(data), "shipment", "1", clock=clock)
    for reader in (from_file, from_pipe):
        assert reader.head() == data[:HEAD_BYTES]
        envelopes = list(reader.envelopes())
        assert [e.raw for e in envelopes] == data.splitlines()
        assert reader.bytes_read == len(data)


def test_head_of_a_short_input_is_all_of_it(clock: Clock) -> None:
    """An input shorter than the head gives all its bytes, and then its lines."""
    reader = FileSource(Pipe(b"{}\n[]"), "shipment", "1", clock=clock)
    assert reader.head() == b"{}\n[]"
    assert [e.raw for e in reader.envelopes()] == [b"{}", b"[]"]


def test_standard_input_is_identified_by_its_bytes(clock: Clock) -> None:
    """Without a path, the source says stdin and gives no location: the bytes alone identify an event."""
    reader = FileSource(Pipe(b"bad\n\nbad\n"), "shipment", "1", clock=clock)
    reader.head()
    first, second = reader.envelopes()
    assert first.source == {"kind": "stdin", "line": 1, "offset": 0}
    assert second.source == {"kind": "stdin", "line": 3, "offset": 5}
    assert first.location is None
    assert first.source_identity() == second.source_identity() == ("raw", hashlib.sha256(b"bad").hexdigest())


def test_a_long_line_on_standard_input_is_identified_by_its_whole_bytes(clock: Clock) -> None:
    """An oversized stdin line's identity is the SHA-256 of the whole line, as if it had been kept."""
    long = b"z" * 200_000
    reader = FileSource(Pipe(long + b"\n"), "shipment", "1", max_line_bytes=100_000, clock=clock)
    (envelope,) = reader.envelopes()
    assert envelope.raw == long[:PREFIX_KEPT]
    assert envelope.source["line_sha256"] == hashlib.sha256(long).hexdigest()
    assert envelope.source_identity() == ("raw", hashlib.sha256(long).hexdigest())


def test_a_long_blank_line_is_skipped(tmp_path: Path, clock: Clock, opened: Open) -> None:
    """A whitespace-only line is blank however long it is: skipped, never an event."""
    data = b" " * 200_000 + b"\n{}\n"
    reader = source(opened, write(tmp_path, data), clock, max_line_bytes=100_000)
    assert [(e.raw, e.source["line"]) for e in reader.envelopes()] == [(b"{}", 2)]
    assert reader.skipped == 1
