"""``sigma-aetl records export``: a contract's records as JSON Lines, resumable, in bounded memory."""

import json
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from cli_support import Cli
from sigma_aetl.cli import records_cmd
from sigma_aetl.core import serial
from sigma_aetl.core.canonical import canonical_bytes
from sigma_aetl.errors import StoreUnavailable
from sigma_aetl.stores.base import RecordPage, RecordQuery
from sigma_aetl.stores.sqlite.store import SqliteStore
from sigma_aetl.testing import INVALID_SHIPMENT
from store_support import accepted

CURSOR_LINE = "to continue later, with the same options: --cursor "


def shipment(key: str, weight: float = 2.5) -> bytes:
    """A valid shipment@1 (and shipment@2-invalid) event for shipment ``key``."""
    return orjson.dumps({"shipment_id": key, "weight_kg": weight, "destination": "Cork", "priority": 1})


@pytest.fixture
def stored(cli: Cli) -> Cli:
    """A store holding five accepted shipment@1 records (A..E, in that order) and one failure."""
    lines = [shipment(key) for key in "ABCDE"]
    summary = cli.ingest(cli.jsonl(*lines[:3], INVALID_SHIPMENT, *lines[3:]))
    assert (summary["accepted"], summary["failed"]) == (5, 1)
    return cli


def keys(stdout: str) -> list[str]:
    """The shipment ids of the exported records, in order."""
    return [json.loads(line)["data"]["shipment_id"] for line in stdout.splitlines()]


def resume_cursor(stderr: str) -> str:
    """The cursor the summary says to continue with."""
    [line] = [line for line in stderr.splitlines() if line.startswith(CURSOR_LINE)]
    return line.removeprefix(CURSOR_LINE)


def test_export_writes_each_record_as_get_by_id_returns_it(stored: Cli) -> None:
    """Each line is one record, exactly the JSON GET /v1/records/{id} answers, in the order stored."""
    result = stored.run("records", "export", "--contract", "shipment")
    assert result.exit_code == 0, result.output
    assert keys(result.stdout) == list("ABCDE")
    with stored.store() as store:
        page = store.query_records(RecordQuery())
    assert result.stdout.encode() == b"".join(serial.dumps(r) + b"\n" for r in page.items)
    assert "exported 5 records of shipment to stdout" in result.stderr


def test_data_only_writes_the_canonical_data(stored: Cli) -> None:
    """--data-only writes each record's canonical data (keys sorted, values as sent) and nothing else."""
    result = stored.run("records", "export", "--contract", "shipment", "--data-only")
    assert result.exit_code == 0, result.output
    assert result.stdout.encode().splitlines() == [
        canonical_bytes(orjson.loads(shipment(k))) for k in "ABCDE"
    ]


def test_output_file_and_summary_on_stderr(stored: Cli) -> None:
    """--output writes the records to the file (stdout stays empty) and the summary names it."""
    target = stored.tmp_path / "out.jsonl"
    target.write_text("old content\n")
    result = stored.run("records", "export", "--contract", "shipment", "--output", str(target))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert keys(target.read_text()) == list("ABCDE")
    assert f"exported 5 records of shipment to {target}" in result.stderr
    assert resume_cursor(result.stderr)


def test_the_printed_cursor_exports_only_what_was_stored_since(
    stored: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Resuming with the printed cursor (and the same options) exports the records stored since, only."""
    monkeypatch.setattr(records_cmd, "MAX_PAGE", 2)  # several pages per export
    first = stored.run("records", "export", "--contract", "shipment", "--version", "1")
    assert keys(first.stdout) == list("ABCDE")
    stored.ingest(stored.jsonl(shipment("A"), shipment("F"), shipment("G"), name="more.jsonl"))
    cursor = resume_cursor(first.stderr)
    second = stored.run("records", "export", "--contract", "shipment", "--version", "1", "--cursor", cursor)
    assert second.exit_code == 0, second.output
    assert keys(second.stdout) == ["F", "G"]
    third = stored.run(
        "records",
        "export",
        "--contract",
        "shipment",
        "--version",
        "1",
        "--cursor",
        resume_cursor(second.stderr),
    )
    assert (third.exit_code, third.stdout) == (0, "")
    assert "exported 0 records of shipment@1" in third.stderr


def test_filters(stored: Cli) -> None:
    """--version, --since and --until select records; other contracts' and versions' records are left out."""
    stored.ingest(
        stored.jsonl(
            b'{"shipment_id": "V2", "weight_kg": 1, "destination": "Cork", "service_level": "standard"}',
            name="v2.jsonl",
        ),
        "shipment@2",
    )
    every = stored.run("records", "export", "--contract", "shipment")
    assert keys(every.stdout) == [*"ABCDE", "V2"]
    assert keys(stored.run("records", "export", "--contract", "shipment", "--version", "2").stdout) == ["V2"]
    assert stored.run("records", "export", "--contract", "parcel").stdout == ""
    received = json.loads(every.stdout.splitlines()[0])["received_at"]
    assert stored.run("records", "export", "--contract", "shipment", "--until", received).stdout == ""
    since = stored.run("records", "export", "--contract", "shipment", "--since", received, "--version", "1")
    assert keys(since.stdout) == list("ABCDE")
    assert f"received from {received.replace('Z', '+00:00')}" in since.stderr


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--cursor", "nonsense"], "the cursor is not one this API issued"),
        (["--cursor", "x" * 2000], "--cursor: String should have at most 1024 characters"),
        (["--version", "0"], "Invalid value for '--version'"),
        (["--since", "yesterday"], "is not an ISO 8601 date"),
        (["--format", "csv"], "Invalid value for '--format'"),
    ],
)
def test_bad_options_exit_2_and_say_why(stored: Cli, argv: list[str], message: str) -> None:
    """A bad cursor, version, instant or format exits 2 with a message saying what is wrong."""
    result = stored.run("records", "export", "--contract", "shipment", *argv)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_a_cursor_from_other_options_is_refused(stored: Cli) -> None:
    """A cursor printed for one version is refused for another, saying which options it belongs to."""
    first = stored.run("records", "export", "--contract", "shipment", "--version", "1")
    cursor = resume_cursor(first.stderr)
    result = stored.run("records", "export", "--contract", "shipment", "--cursor", cursor)
    assert result.exit_code == 2
    assert "issued for contract='shipment', version=1" in result.stderr


def test_the_contract_is_required(stored: Cli) -> None:
    """Without --contract the command is a usage error."""
    result = stored.run("records", "export")
    assert result.exit_code == 2
    assert "--contract" in result.stderr


def test_a_missing_store_is_an_error_and_nothing_is_created(cli: Cli) -> None:
    """Exporting from a store that does not exist exits 2 and creates neither the store nor the output."""
    target = cli.tmp_path / "out.jsonl"
    result = cli.run("records", "export", "--contract", "shipment", "--output", str(target))
    assert result.exit_code == 2
    assert "no store at" in result.stderr
    assert not cli.db.exists()
    assert not target.exists()


def test_an_export_stopped_by_the_store_says_where_to_resume(
    stored: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store failing mid-export exits 2 after the pages already written, with the cursor that resumes
    right after them; resuming with it writes the rest, and nothing twice."""
    monkeypatch.setattr(records_cmd, "MAX_PAGE", 2)
    calls: list[RecordQuery] = []
    original = SqliteStore.query_records

    def flaky(self: SqliteStore, query: RecordQuery) -> RecordPage:
        calls.append(query)
        if len(calls) == 2:
            raise StoreUnavailable("SQLite: disk I/O error")
        return original(self, query)

    monkeypatch.setattr(SqliteStore, "query_records", flaky)
    stopped = stored.run("records", "export", "--contract", "shipment")
    assert stopped.exit_code == 2
    assert keys(stopped.stdout) == ["A", "B"]
    assert "stopped after exporting 2 records of shipment" in stopped.stderr
    assert "error: SQLite: disk I/O error" in stopped.stderr
    rest = stored.run(
        "records", "export", "--contract", "shipment", "--cursor", resume_cursor(stopped.stderr)
    )
    assert rest.exit_code == 0, rest.output
    assert keys(rest.stdout) == ["C", "D", "E"]


_MEASURE = """
import sys
from sigma_aetl.cli.app import app
try:
    app(sys.argv[2:], prog_name="sigma-aetl")
except SystemExit as exit:
    code = exit.code
with open("/proc/self/status") as status:
    peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
with open(sys.argv[1], "w") as out:
    out.write(f"{code} {peak}")
"""
# VmHWM, the peak resident memory of this program image: getrusage's ru_maxrss would also count the
# parent's pages a vfork()ed child shares before exec (and this test's parent just built 100k records).


def export_peak_kib(cli: Cli, target: Path) -> int:
    """Run ``records export`` in a process of its own; the peak resident memory it reached, in KiB (Linux)."""
    report = cli.tmp_path / "peak.txt"
    command = [sys.executable, "-c", _MEASURE, str(report), "--store", cli.store_url]
    command += ["records", "export", "--contract", "shipment", "--output", str(target)]
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    code, peak = report.read_text().split()
    assert code in ("0", "None")
    return int(peak)


def fill(cli: Cli, count: int) -> None:
    """Store ``count`` accepted shipment@1 records, in transactions of 5,000."""
    store = SqliteStore(cli.db, writer="inline")
    try:
        for start in range(0, count, 5_000):
            store.write([accepted(f"M{n:06}") for n in range(start, min(count, start + 5_000))], [])
    finally:
        store.close()


def test_memory_stays_bounded_on_a_store_of_100k_records(cli: Cli) -> None:
    """Exporting 100,000 records peaks at about the memory of exporting 2,000: a page at a time, never all."""
    fill(cli, 2_000)
    small = export_peak_kib(cli, cli.tmp_path / "small.jsonl")
    fill(cli, 100_000)
    target = cli.tmp_path / "large.jsonl"
    large = export_peak_kib(cli, target)
    with target.open("rb") as lines:
        assert sum(1 for _ in lines) == 100_000
    # Holding the records would take hundreds of MiB (the file alone is ~60 MiB); a page is a few MiB.
    assert large - small < 24 * 1024, f"peak {large} KiB exporting 100k records against {small} KiB for 2k"
