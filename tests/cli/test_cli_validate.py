"""``sigma-aetl validate``: one payload, decided exactly as the gateway would, never stored."""

import json

import pytest

from cli_support import Cli
from sigma_aetl.testing import INVALID_SHIPMENT, INVALID_UTF8, STRING_PRIORITY, VALID_SHIPMENT


def test_valid_payload_exits_0_and_prints_the_canonical_record(cli: Cli) -> None:
    """A payload that passes exits 0 and shows PASSED with the canonical record."""
    path = cli.tmp_path / "payload.json"
    path.write_bytes(VALID_SHIPMENT)
    result = cli.run("validate", "shipment@1", str(path))
    assert result.exit_code == 0
    assert "PASSED" in result.stdout
    assert '"shipment_id": "SHIP-TRUE-003"' in result.stdout


def test_invalid_payload_exits_1_and_lists_every_error(cli: Cli) -> None:
    """A payload that fails exits 1 and shows the root cause and a row per error with its explanation."""
    path = cli.tmp_path / "payload.json"
    path.write_bytes(INVALID_SHIPMENT)
    result = cli.run("validate", "shipment@1", str(path))
    assert result.exit_code == 1
    assert "FAILED" in result.stdout
    assert "missing_field" in result.stdout
    assert "priority: required, but the field is missing." in result.stdout
    assert "weight_kg: expected a value > 0, received -5 (an integer)." in result.stdout
    assert "3 error(s)" in result.stdout


@pytest.mark.parametrize(("payload", "code"), [(VALID_SHIPMENT, 0), (STRING_PRIORITY, 1)])
def test_json_output_is_the_decision(cli: Cli, payload: bytes, code: int) -> None:
    """With --json, stdout is the decision's JSON, and the exit code still tells PASSED from FAILED."""
    path = cli.tmp_path / "payload.json"
    path.write_bytes(payload)
    decision = cli.json("validate", "shipment@1", str(path), code=code)
    assert decision["status"] == ("PASSED" if code == 0 else "FAILED")
    assert decision["contract"] == "shipment"
    assert decision["version"] == 1
    assert decision["fingerprint"].startswith("sha256:")
    if code:
        assert decision["root_cause"] == "type_mismatch"
        assert [error["path"] for error in decision["errors"]] == ["priority"]


def test_stdin_is_read_byte_for_byte(cli: Cli) -> None:
    """``-`` reads the payload from stdin, bytes untouched (invalid UTF-8 stays invalid)."""
    result = cli.run("validate", "shipment@1", "-", "--json", stdin=INVALID_UTF8)
    assert result.exit_code == 1
    assert json.loads(result.stdout)["root_cause"] == "invalid_encoding"


def test_trailing_newline_in_file_is_part_of_the_payload(cli: Cli) -> None:
    """The file's bytes are validated exactly; JSON allows the trailing whitespace an editor adds."""
    path = cli.tmp_path / "payload.json"
    path.write_bytes(VALID_SHIPMENT + b"\n")
    assert cli.json("validate", "shipment@1", str(path))["status"] == "PASSED"


def test_validate_never_opens_the_store(cli: Cli) -> None:
    """Validation needs no storage: a store URL that cannot work does not matter, and no file is created."""
    path = cli.tmp_path / "payload.json"
    path.write_bytes(VALID_SHIPMENT)
    result = cli.run("validate", "shipment@1", str(path), store="nosuchscheme://anywhere")
    assert result.exit_code == 0, result.output
    assert not cli.db.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["shipment@9", "PAYLOAD"], "known versions: 1, 2"),
        (["shipment@1", "missing.json"], "missing.json: No such file or directory"),
        (["shipment", "PAYLOAD"], "NAME@VERSION"),
    ],
)
def test_operational_errors_exit_2(cli: Cli, args: list[str], message: str) -> None:
    """An unknown contract, a missing file or a malformed ref exits 2 with a message and no traceback."""
    path = cli.tmp_path / "payload.json"
    path.write_bytes(VALID_SHIPMENT)
    argv = [str(path) if arg == "PAYLOAD" else arg for arg in args]
    result = cli.run("validate", *argv)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.output


def test_help_documents_the_exit_codes(cli: Cli) -> None:
    """The command's help states what exit codes 0, 1 and 2 mean."""
    result = cli.run("validate", "--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "Exit codes: 0 the payload PASSED, 1 it FAILED, 2 the command could not run" in text
