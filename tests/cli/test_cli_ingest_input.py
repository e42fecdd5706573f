"""``sigma-aetl ingest`` and what it reads: oversized lines in bounded memory, standard input, and inputs
that are not text (refused unless --force)."""

import bz2
import gzip
import hashlib
import io
import json
import lzma
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from cli_support import CONTRACTS, Cli, clean_environ
from sigma_aetl.core.taxonomy import RootCause
from sigma_aetl.settings import PREFIX_KEPT
from sigma_aetl.stores.base import FailureQuery
from sigma_aetl.testing import HEAVY_SHIPMENT, INVALID_SHIPMENT, INVALID_UTF8, TRUNCATED, VALID_SHIPMENT

BIG = 50_000_000
"""The oversized line's size: 50 MB."""
TIMEOUT = 120


def write_big_line_file(path: Path, *, big: bool = True) -> bytes:
    """Valid lines, a 50 MB line (or a short bad one), then more lines; returns the middle line."""
    head, tail = b'{"blob": "', b'"}'
    filler = BIG - len(head) - len(tail)
    before = b"\n".join([VALID_SHIPMENT, INVALID_SHIPMENT]) + b"\n"
    after = b"\n" + b"\n".join([HEAVY_SHIPMENT, TRUNCATED]) + b"\n"
    digest = hashlib.sha256(head)
    with path.open("wb") as out:
        out.write(before + head)
        for _ in range(filler // 1_000_000 if big else 0):
            out.write(b"x" * 1_000_000)
            digest.update(b"x" * 1_000_000)
        rest = b"x" * (filler % 1_000_000 if big else 1) + tail
        out.write(rest + after)
    digest.update(rest)
    return digest.hexdigest().encode()


def sigma_process(
    tmp_path: Path, *args: str, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    """``python -m sigma_aetl`` as a real process on the store in ``tmp_path``; stderr ends with its peak
    resident memory (``VmHWM``), written as it exits."""
    program = (
        "import atexit, re, sys\n"
        "from sigma_aetl.cli.app import app\n"
        "atexit.register(lambda: sys.stderr.write('\\nVmHWM ' + "
        "re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1) + '\\n'))\n"
        "app(sys.argv[1:], prog_name='sigma-aetl')\n"
    )
    argv = [
        sys.executable,
        "-c",
        program,
        "--store",
        f"sqlite:///{tmp_path}/t.db",
        "--contracts",
        str(CONTRACTS),
    ]
    return subprocess.run(
        [*argv, *args], input=stdin, capture_output=True, env=clean_environ(), timeout=TIMEOUT, check=False
    )


def peak_kib(result: subprocess.CompletedProcess[bytes]) -> int:
    """The peak resident memory a :func:`sigma_process` reported, in KiB."""
    found = re.search(rb"VmHWM (\d+)", result.stderr)
    assert found is not None, result.stderr.decode(errors="replace")
    return int(found.group(1))


def test_a_50_mb_line_is_a_truncated_failure_read_in_bounded_memory(cli: Cli, tmp_path: Path) -> None:
    """Between valid lines, a 50 MB line is a payload_too_large failure keeping its first 64 KiB, its full
    size and its hash; every other line is stored as usual; and the process's peak memory grows by far
    less than the line (the whole line was once held, and stored: 250 MB at peak)."""
    small, big = tmp_path / "small.jsonl", tmp_path / "big.jsonl"
    write_big_line_file(small, big=False)
    whole_sha256 = write_big_line_file(big).decode()
    baseline = sigma_process(tmp_path, "ingest", "shipment@1", str(small), "--json")
    assert baseline.returncode == 0, baseline.stderr
    (tmp_path / "t.db").unlink()
    result = sigma_process(tmp_path, "ingest", "shipment@1", str(big), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["events_read"], summary["accepted"], summary["failed"]) == (5, 1, 4)
    assert peak_kib(result) - peak_kib(baseline) < 16 * 1024, (peak_kib(baseline), peak_kib(result))
    with cli.store() as store:
        failures = {f.source["line"]: f for f in store.query_failures(FailureQuery()).items}
    assert sorted(failures) == [2, 3, 4, 5]
    oversized = failures[3]
    assert oversized.root_cause is RootCause.PAYLOAD_TOO_LARGE
    assert (oversized.raw.truncated, oversized.raw.size) == (True, BIG)
    kept = oversized.raw.to_bytes()
    assert kept == b'{"blob": "' + b"x" * (PREFIX_KEPT - 10)
    assert oversized.raw.sha256 == hashlib.sha256(kept).hexdigest()
    assert oversized.source["line_sha256"] == whole_sha256
    assert oversized.source["offset"] == len(VALID_SHIPMENT) + len(INVALID_SHIPMENT) + 2
    assert f"{BIG} bytes" in oversized.errors[0].message
    assert failures[4].raw.to_bytes() == HEAVY_SHIPMENT
    assert failures[5].source["offset"] == oversized.source["offset"] + BIG + 1 + len(HEAVY_SHIPMENT) + 1


def test_an_oversized_line_is_stored_once_across_runs(cli: Cli) -> None:
    """A line over max_event_bytes (and 64 KiB) is one truncated failure; a rerun writes nothing new."""
    path = cli.jsonl(VALID_SHIPMENT, b'"' + b"y" * 200_000 + b'"')
    env = {"SIGMA_AETL_MAX_EVENT_BYTES": "100000"}
    first = cli.run("ingest", "shipment@1", str(path), "--json", env=env)
    second = cli.run("ingest", "shipment@1", str(path), "--json", env=env)
    assert (json.loads(first.stdout)["failed"], json.loads(second.stdout)["failure_duplicates"]) == (1, 1)
    with cli.store() as store:
        [failure] = store.query_failures(FailureQuery()).items
    assert (failure.raw.truncated, failure.raw.size, len(failure.raw.to_bytes())) == (
        True,
        200_002,
        PREFIX_KEPT,
    )
    assert failure.errors[0].constraint == "size <= 100000 bytes"


def test_standard_input_is_read_when_the_file_is_a_dash(cli: Cli) -> None:
    """``ingest REF -`` reads stdin; its events say stdin, and identical bad lines are one failure (the
    bytes are the identity); piping the same lines again writes nothing new."""
    data = b"\n".join([VALID_SHIPMENT, TRUNCATED, b"", TRUNCATED]) + b"\n"
    first = cli.run("ingest", "shipment@1", "-", "--json", stdin=data)
    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout)
    assert summary["file"] == "-"
    assert (summary["accepted"], summary["failed"], summary["failure_duplicates"]) == (1, 1, 1)
    assert summary["blank_lines_skipped"] == 1
    again = json.loads(cli.run("ingest", "shipment@1", "-", "--json", stdin=data).stdout)
    assert (again["accepted"], again["failed"], again["duplicates"]) == (0, 0, 3)
    with cli.store() as store:
        [failure] = store.query_failures(FailureQuery()).items
    assert failure.source == {"kind": "stdin", "line": 2, "offset": len(VALID_SHIPMENT) + 1}


def test_the_human_summary_names_standard_input(cli: Cli) -> None:
    """Without --json, the summary of a stdin run says it read `-`."""
    result = cli.run("ingest", "shipment@1", "-", stdin=VALID_SHIPMENT + b"\n")
    assert result.exit_code == 0, result.output
    assert "ingested - as shipment@1" in result.stdout


def _zip(data: bytes) -> bytes:
    """``data`` as the one file of a zip archive."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("events.jsonl", data)
    return buffer.getvalue()


LINES = b"\n".join([VALID_SHIPMENT, HEAVY_SHIPMENT]) + b"\n"
NOT_TEXT = [
    pytest.param(gzip.compress(LINES), "gzip-compressed data", "zcat", id="gzip"),
    pytest.param(b"\x28\xb5\x2f\xfd" + b"\x00" * 20, "zstd-compressed data", "zstdcat", id="zstd"),
    pytest.param(bz2.compress(LINES), "bzip2-compressed data", "bzcat", id="bzip2"),
    pytest.param(lzma.compress(LINES), "xz-compressed data", "xzcat", id="xz"),
    pytest.param(_zip(LINES), "a zip archive", "unzip -p", id="zip"),
    pytest.param(LINES.decode().encode("utf-16"), "UTF-16 text", "iconv -f UTF-16 -t UTF-8", id="utf-16"),
    pytest.param(VALID_SHIPMENT + b"\n\x00\x01\x02\n", "binary data", None, id="nul"),
    pytest.param(VALID_SHIPMENT + b"\n" + INVALID_UTF8 + b"\n", "not UTF-8", None, id="not-utf-8"),
]


@pytest.mark.parametrize(("data", "looks_like", "decompress"), NOT_TEXT)
def test_an_input_that_is_not_text_is_refused_with_a_way_forward(
    cli: Cli, data: bytes, looks_like: str, decompress: str | None
) -> None:
    """A compressed or binary file is refused with exit 2, saying what it looks like and how to proceed
    (decompress into `ingest -`, or --force); no store is created."""
    path = cli.tmp_path / "events.jsonl.x"
    path.write_bytes(data)
    result = cli.run("ingest", "shipment@1", str(path))
    assert result.exit_code == 2, result.output
    assert looks_like in result.stderr
    assert "--force" in result.stderr
    if decompress is not None:
        assert f"{decompress} {path} | sigma-aetl ingest shipment@1 -" in result.stderr
    assert "Traceback" not in result.output
    assert not cli.db.exists()


@pytest.mark.parametrize(("data", "looks_like", "decompress"), NOT_TEXT)
def test_force_judges_every_line_as_usual(
    cli: Cli, data: bytes, looks_like: str, decompress: str | None
) -> None:
    """With --force, the input is ingested after a warning: its lines are judged, nothing is lost."""
    path = cli.tmp_path / "events.jsonl.x"
    path.write_bytes(data)
    result = cli.run("ingest", "shipment@1", str(path), "--force", "--json")
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("warning: ")
    assert looks_like in result.stderr
    summary = json.loads(result.stdout)
    assert summary["events_read"] == summary["accepted"] + summary["failed"] + summary["duplicates"] > 0
    assert cli.stats()["failures_total"] == summary["failed"]


def test_compressed_standard_input_is_refused_too(cli: Cli) -> None:
    """gzip on stdin is refused, and the hint puts the decompression before the pipe."""
    result = cli.run("ingest", "shipment@1", "-", stdin=gzip.compress(LINES))
    assert result.exit_code == 2
    assert (
        "standard input does not look like JSON Lines text: it looks like gzip-compressed data"
        in result.stderr
    )
    assert "... | zcat | sigma-aetl ingest shipment@1 -" in result.stderr


def test_standard_input_from_a_real_pipe_is_read_to_its_end(tmp_path: Path) -> None:
    """What the refusal suggests works: lines piped into ``ingest -`` by another process are all stored."""
    line = b'{"shipment_id": "P-%d", "weight_kg": 1, "destination": "Cork", "priority": 1}\n'
    lines = b"".join(line % n for n in range(3000))
    result = sigma_process(tmp_path, "ingest", "shipment@1", "-", "--json", stdin=lines)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["accepted"], summary["lines_read"], summary["last_line_stored"]) == (3000, 3000, 3000)
