"""``--store`` and ``--contracts`` before the command, after it, or both: the one nearest the command wins."""

import shutil
from pathlib import Path

import pytest

from cli_support import CONTRACTS, Cli
from sigma_aetl.testing import VALID_SHIPMENT


@pytest.fixture
def filled(cli: Cli) -> Cli:
    """A store holding one accepted record."""
    cli.ingest(cli.jsonl(VALID_SHIPMENT))
    return cli


def test_store_after_the_command(filled: Cli) -> None:
    """``stats --store URL`` reads that store, as ``--store URL stats`` does."""
    after = filled.invoke("stats", "--json", "--store", filled.store_url, "--contracts", str(CONTRACTS))
    assert after.exit_code == 0, after.output
    assert '"accepted_total":1' in after.stdout.replace(" ", "")


def test_contracts_after_a_subcommand(filled: Cli, tmp_path: Path) -> None:
    """``failures list --contracts DIR`` and ``contracts list --contracts DIR`` use that directory."""
    other = Path(shutil.copytree(CONTRACTS, tmp_path / "other"))
    for folder in [path for path in other.iterdir() if path.is_dir()]:
        shutil.rmtree(folder)
    (other / "contracts.lock.json").unlink()
    listed = filled.invoke("contracts", "list", "--json", "--contracts", str(other))
    assert listed.exit_code == 0, listed.output
    assert listed.stdout.strip() == "[]"
    failures = filled.invoke(
        "failures", "list", "--json", "--store", filled.store_url, "--contracts", str(other)
    )
    assert failures.exit_code == 0, failures.output


def test_the_option_after_the_command_wins(filled: Cli, tmp_path: Path) -> None:
    """Given before and after the command, the value after it (nearer the command) is used."""
    absent = f"sqlite:///{tmp_path}/absent.db"
    wins = filled.invoke("--store", absent, "stats", "--json", "--store", filled.store_url)
    assert wins.exit_code == 0, wins.output
    loses = filled.invoke("--store", filled.store_url, "stats", "--store", absent)
    assert loses.exit_code == 2
    assert "no store at" in loses.stderr
    assert not (tmp_path / "absent.db").exists()


def test_the_option_after_the_command_beats_the_environment(filled: Cli, tmp_path: Path) -> None:
    """``stats --store URL`` overrides SIGMA_AETL_STORE_URL."""
    env = {
        "SIGMA_AETL_STORE_URL": f"sqlite:///{tmp_path}/absent.db",
        "SIGMA_AETL_CONTRACTS_DIR": str(CONTRACTS),
    }
    result = filled.invoke("stats", "--json", "--store", filled.store_url, env=env)
    assert result.exit_code == 0, result.output


def test_ingest_takes_them_after_its_arguments(cli: Cli) -> None:
    """``ingest REF FILE --store URL --contracts DIR`` stores into that store."""
    events = str(cli.jsonl(VALID_SHIPMENT))
    result = cli.invoke(
        "ingest", "shipment@1", events, "--store", cli.store_url, "--contracts", str(CONTRACTS)
    )
    assert result.exit_code == 0, result.output
    assert cli.stats()["accepted_total"] == 1


def test_init_takes_no_global_options(cli: Cli, tmp_path: Path) -> None:
    """``init`` uses no settings, so it refuses ``--store`` rather than ignore it."""
    result = cli.invoke("init", str(tmp_path / "here"), "--store", cli.store_url)
    assert result.exit_code == 2
    assert "No such option: --store" in result.stderr
    assert not (tmp_path / "here").exists()
