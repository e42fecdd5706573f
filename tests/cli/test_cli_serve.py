"""``serve`` on a first day: its default contract, and a failed start that leaves nothing behind."""

import json
import shutil
import socket
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from cli_support import CONTRACTS, Cli
from sigma_aetl import logs
from sigma_aetl.cli import listen, serve_cmd
from sigma_aetl.settings import Settings


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Instead of serving, record the app and the settings it was built from, and close its gateway."""
    apps: list[Any] = []

    def run_server(config: uvicorn.Config, sock: socket.socket) -> None:
        app: Any = config.app
        apps.append(app)
        app.state.gateway.close()

    monkeypatch.setattr(serve_cmd, "run_server", run_server)
    monkeypatch.setattr(logs, "configure", lambda level, log_format="console": None)
    return apps


def only_order(tmp_path: Path) -> Path:
    """A contracts directory without shipment: ``order@1`` only (the shipment@2 schema, renamed)."""
    document = json.loads((CONTRACTS / "shipment" / "v2.json").read_text())
    document.update(name="order", version=1)
    folder = tmp_path / "only-order" / "order"
    folder.mkdir(parents=True)
    (folder / "v1.json").write_text(json.dumps(document))
    return folder.parent


def test_serve_starts_without_the_default_contract(cli: Cli, served: list[Any], tmp_path: Path) -> None:
    """Contracts without the default shipment_compat@1 are no reason to refuse to start: serve builds the
    app and serves."""
    result = cli.run("serve", "--port", "0", contracts=only_order(tmp_path))
    assert result.exit_code == 0, result.output
    [app] = served
    assert app.state.default_contract.setting == "shipment_compat@1"
    assert app.state.default_contract.contract is None


def test_default_contract_option(cli: Cli, served: list[Any]) -> None:
    """``serve --default-contract NAME@VERSION`` sets the contract /api/validate checks against."""
    result = cli.run("serve", "--default-contract", "shipment@2")
    assert result.exit_code == 0, result.output
    [app] = served
    settings: Settings = app.state.gateway.settings
    assert settings.default_contract == "shipment@2"
    assert app.state.default_contract.contract.ref == "shipment@2"


def test_default_contract_option_must_be_a_reference(cli: Cli, served: list[Any]) -> None:
    """A ``--default-contract`` that is not NAME@VERSION is a usage error, and nothing starts."""
    result = cli.run("serve", "--default-contract", "shipment")
    assert result.exit_code == 2
    assert "not NAME@VERSION" in result.stderr
    assert served == []
    assert not cli.db.exists()


@pytest.mark.parametrize("problem", ["no contracts", "edited release"])
def test_a_failed_start_creates_no_files(
    cli: Cli, served: list[Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, problem: str
) -> None:
    """With the default settings, a start refused for its contracts creates no data directory and no db."""
    workdir = tmp_path / "first-day"
    workdir.mkdir()
    if problem == "edited release":
        shutil.copytree(CONTRACTS, workdir / "contracts")
        v1 = workdir / "contracts" / "shipment" / "v1.py"
        v1.write_text(v1.read_text().replace("le=3", "le=4"))
    monkeypatch.chdir(workdir)
    before = sorted(
        path.relative_to(workdir) for path in workdir.rglob("*") if "__pycache__" not in path.parts
    )
    result = cli.invoke("serve")
    assert result.exit_code == 2
    assert served == []
    after = sorted(
        path.relative_to(workdir) for path in workdir.rglob("*") if "__pycache__" not in path.parts
    )
    assert after == before
    assert not (workdir / "data").exists()


def test_a_missing_contracts_directory_says_how_to_point_at_one(cli: Cli, tmp_path: Path) -> None:
    """The error names the directory, where it was looked for, and the three ways to fix it."""
    result = cli.invoke("--store", cli.store_url, "serve", "--contracts", "nowhere")
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert "contracts directory 'nowhere' does not exist (looked in " in message
    for way in ("--contracts DIR", "SIGMA_AETL_CONTRACTS_DIR", "sigma-aetl init"):
        assert way in message
    assert not cli.db.exists()


@pytest.mark.parametrize("command", ["ingest", "validate"])
def test_every_command_gives_the_contracts_hint(cli: Cli, tmp_path: Path, command: str) -> None:
    """``ingest`` and ``validate`` say the same about a missing contracts directory."""
    events = cli.jsonl(b"{}")
    result = cli.run(command, "shipment@1", str(events), contracts=tmp_path / "nowhere")
    assert result.exit_code == 2
    assert "does not exist" in result.stderr
    assert "sigma-aetl init" in result.stderr


def test_a_read_only_command_only_warns_without_contracts(cli: Cli, tmp_path: Path) -> None:
    """``stats`` reads the store without any contracts directory; it warns, with the hint, and exits 0."""
    cli.ingest(cli.jsonl(b'{"shipment_id": "S", "weight_kg": 1, "destination": "Cork", "priority": 1}'))
    result = cli.run("stats", "--json", contracts=tmp_path / "nowhere")
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("warning: the contracts do not load")
    assert "sigma-aetl init" in result.stderr


def test_serve_open_on_a_non_loopback_address_refuses_to_start(cli: Cli, served: list[Any]) -> None:
    """With no API key, serve on 0.0.0.0 exits 2 saying to create a key or pass --allow-open."""
    result = cli.run(
        "serve", "--host", "0.0.0.0", "--port", "0", "--allowed-hosts", "*", env={"COLUMNS": "300"}
    )
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert "no API key exists, and 0.0.0.0 is not a loopback address" in message
    assert "sigma-aetl keys create" in message
    assert "--allow-open" in message
    assert served == []


def test_allow_open_serves_open_on_a_non_loopback_address(cli: Cli, served: list[Any]) -> None:
    """``--allow-open`` (or SIGMA_AETL_ALLOW_OPEN) lets serve start open on any address."""
    assert (
        cli.run("serve", "--host", "0.0.0.0", "--port", "0", "--allowed-hosts", "*", "--allow-open").exit_code
        == 0
    )
    env = {"SIGMA_AETL_ALLOW_OPEN": "true"}
    assert (
        cli.run("serve", "--host", "0.0.0.0", "--port", "0", "--allowed-hosts", "*", env=env).exit_code == 0
    )
    assert len(served) == 2


def test_a_key_lets_serve_start_on_a_non_loopback_address(cli: Cli, served: list[Any]) -> None:
    """Once a key exists, serve starts on a non-loopback address without --allow-open."""
    assert cli.run("keys", "create", "--name", "ops", "--scope", "admin").exit_code == 0
    result = cli.run("serve", "--host", "0.0.0.0", "--port", "0", "--allowed-hosts", "*")
    assert result.exit_code == 0, result.output
    assert len(served) == 1


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        *[("127.0.0.1", True), ("127.8.0.1", True), ("::1", True), ("localhost", True)],
        *[("0.0.0.0", False), ("::", False), ("10.0.0.1", False), ("gateway.example", False)],
    ],
)
def test_which_addresses_are_loopback(host: str, loopback: bool) -> None:
    """Only loopback addresses (and localhost) may serve open without --allow-open."""
    assert listen.is_loopback(host) is loopback
