"""The commands that only read open the store read-only and keep working when a release was edited."""

import shutil
from pathlib import Path

import pytest

from cli_support import CONTRACTS, Cli
from sigma_aetl.errors import StoreError, StoreUnavailable
from sigma_aetl.stores import open_store
from sigma_aetl.stores.sqlite import writer as writer_module
from sigma_aetl.stores.sqlite.store import SqliteStore
from sigma_aetl.testing import HEAVY_SHIPMENT, VALID_SHIPMENT
from store_support import accepted, failure


@pytest.fixture
def edited(tmp_path: Path) -> Path:
    """A copy of the repository's contracts in which released shipment@1 was edited in place."""
    contracts = Path(shutil.copytree(CONTRACTS, tmp_path / "contracts"))
    v1 = contracts / "shipment" / "v1.py"
    v1.write_text(v1.read_text().replace("ge=1, le=3", "ge=1, le=5"))
    return contracts


@pytest.fixture
def stored(cli: Cli) -> Cli:
    """A store holding one accepted record and one failure."""
    cli.ingest(cli.jsonl(VALID_SHIPMENT, HEAVY_SHIPMENT))
    return cli


@pytest.fixture
def no_writer(stored: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on (once the store is filled), fail the test if anything starts a writer process."""

    def refuse(*args: object, **kwargs: object) -> None:
        pytest.fail("a read-only command started a writer process")

    monkeypatch.setattr(writer_module.WriterProcess, "__init__", refuse)


@pytest.mark.usefixtures("no_writer")
@pytest.mark.parametrize(
    "argv",
    [
        ("stats", "--json"),
        ("failures", "list", "--json"),
        ("contracts", "try", "shipment@2", "--json"),
        ("records", "export", "--contract", "shipment"),
    ],
    ids=["stats", "failures", "contracts-try", "records-export"],
)
def test_reading_works_and_warns_when_a_release_was_edited(
    stored: Cli, edited: Path, argv: tuple[str, ...]
) -> None:
    """An edited release makes a read-only command warn about it, not refuse, and start no writer."""
    result = stored.run(*argv, contracts=edited)
    assert result.exit_code in (0, 1), result.output  # contracts try exits 1 when some events would fail
    assert result.stderr.startswith("warning: ")
    assert "1 released contract version(s) no longer match the lock" in result.stderr
    assert "maximum 3 → 5" in result.stderr
    assert result.stdout.lstrip().startswith(("{", "["))


def test_failures_show_reads_without_a_writer(stored: Cli, no_writer: None) -> None:
    """``failures show`` finds the failure with the store opened read-only."""
    [failure] = stored.json("failures", "list")["items"]
    shown = stored.json("failures", "show", failure["failure_id"])
    assert shown["failure_id"] == failure["failure_id"]


@pytest.mark.parametrize(
    "argv",
    [
        ("stats",),
        ("failures", "list"),
        ("failures", "show", "fail_x"),
        ("contracts", "try", "shipment@2"),
        ("records", "export", "--contract", "shipment"),
    ],
    ids=["stats", "failures-list", "failures-show", "contracts-try", "records-export"],
)
def test_a_missing_store_is_an_error_and_nothing_is_created(cli: Cli, argv: tuple[str, ...]) -> None:
    """A read-only command on a store that does not exist exits 2 and creates no file."""
    result = cli.run(*argv)
    assert result.exit_code == 2
    assert "no store at" in result.stderr
    assert not cli.db.exists()


def test_a_read_only_store_reads_and_refuses_writes(tmp_path: Path) -> None:
    """Opened read-only, a SQLite store reads what is there, refuses to write, and never creates a file."""
    writable = SqliteStore(tmp_path / "r.db", writer="inline")
    writable.write([accepted("A")], [])
    writable.close()
    store = open_store(f"sqlite:///{tmp_path}/r.db", read_only=True)
    try:
        assert store.stats().accepted_total == 1
        assert not store.writes_in_background
        with pytest.raises(StoreError, match="read-only"):
            store.write([accepted("B")], [failure("F")])
        assert store.stats().accepted_total == 1
    finally:
        store.close()
    with pytest.raises(StoreUnavailable, match="no store at"):
        open_store(f"sqlite:///{tmp_path}/absent.db", read_only=True)
    assert not (tmp_path / "absent.db").exists()
