"""Telling JSON Lines text from inputs that are clearly not text, by their first bytes."""

import pytest

from sigma_aetl.ingest.sniff import not_text
from sigma_aetl.testing import VALID_SHIPMENT


@pytest.mark.parametrize(
    "head",
    [b"", VALID_SHIPMENT + b"\n", b'{"city": "Cork \xc3\xa9"}\n', b"\xef\xbb\xbf{}\n", b"BZh0 is text\n"],
)
def test_text_passes(head: bytes) -> None:
    """JSON Lines, UTF-8 text, a UTF-8 byte order mark and an empty input are not refused."""
    assert not_text(head, whole=True) is None


def test_a_character_cut_at_the_end_of_the_head_is_not_an_error() -> None:
    """A multi-byte character split by the end of the sample is text, unless the input ends there."""
    head = b'{"city": "Cork \xc3'
    assert not_text(head, whole=False) is None
    found = not_text(head, whole=True)
    assert found is not None
    assert found.evidence == "bytes that are not UTF-8 at offset 15"


@pytest.mark.parametrize(
    ("head", "looks_like", "decompress"),
    [
        (b"\x1f\x8b\x08\x00", "gzip-compressed data", "zcat"),
        (b"\x28\xb5\x2f\xfd\x04", "zstd-compressed data", "zstdcat"),
        (b"BZh91AY&SY", "bzip2-compressed data", "bzcat"),
        (b"\xfd7zXZ\x00\x00", "xz-compressed data", "xzcat"),
        (b"PK\x03\x04\x14\x00", "a zip archive", "unzip -p"),
        (b"\xff\xfe{\x00}\x00", "UTF-16 text", "iconv -f UTF-16 -t UTF-8"),
        (b"\xff\xfe\x00\x00{\x00\x00\x00", "UTF-32 text", "iconv -f UTF-32 -t UTF-8"),
        (b"{}\n\x00\x00", "binary data", None),
    ],
)
def test_what_it_looks_like_and_how_to_read_it(head: bytes, looks_like: str, decompress: str | None) -> None:
    """Magic bytes, byte order marks and NUL bytes each say what the input is and what turns it to text."""
    found = not_text(head, whole=False)
    assert found is not None
    assert (found.looks_like, found.decompress) == (looks_like, decompress)


def test_a_nul_byte_is_located() -> None:
    """The evidence of binary data names the offset of its first NUL byte."""
    found = not_text(b"{}\n{\x00}", whole=True)
    assert found is not None
    assert found.evidence == "a NUL byte at offset 4"
