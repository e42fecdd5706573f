"""The root command: global options, settings from the environment, help, version, and ``serve``."""

import socket
from collections.abc import Sequence
from typing import Any

import pytest
import uvicorn

from cli_support import CONTRACTS, Cli
from sigma_aetl import __version__, logs
from sigma_aetl.cli import ingest_cmd, serve_cmd
from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core.envelope import Envelope
from sigma_aetl.ingest.pipeline import Pipeline, Prepared
from sigma_aetl.settings import Settings
from sigma_aetl.testing import VALID_SHIPMENT


def test_store_and_contracts_come_from_the_environment(cli: Cli) -> None:
    """Without --store and --contracts, SIGMA_AETL_STORE_URL and SIGMA_AETL_CONTRACTS_DIR are used."""
    path = cli.jsonl(VALID_SHIPMENT)
    env = {"SIGMA_AETL_STORE_URL": cli.store_url, "SIGMA_AETL_CONTRACTS_DIR": str(CONTRACTS)}
    result = cli.invoke("ingest", "shipment@1", str(path), "--json", env=env)
    assert result.exit_code == 0, result.output
    assert cli.db.exists()
    assert cli.stats()["accepted_total"] == 1


def test_command_line_option_beats_the_environment(cli: Cli) -> None:
    """--store overrides SIGMA_AETL_STORE_URL."""
    other = cli.tmp_path / "other.db"
    events = str(cli.jsonl(VALID_SHIPMENT))
    result = cli.run("ingest", "shipment@1", events, env={"SIGMA_AETL_STORE_URL": f"sqlite:///{other}"})
    assert result.exit_code == 0, result.output
    assert cli.db.exists()
    assert not other.exists()


def test_transaction_size_defaults_from_settings(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGMA_AETL_TRANSACTION_SIZE sets the events per transaction; --transaction-size overrides it."""
    batches: list[int] = []
    prepare = Pipeline.prepare

    def recording(self: Pipeline, batch: Sequence[Envelope], registry: Registry | None = None) -> Prepared:
        batches.append(len(batch))
        return prepare(self, batch, registry)

    monkeypatch.setattr(Pipeline, "prepare", recording)
    path = str(cli.jsonl(*[VALID_SHIPMENT] * 5))
    env = {"SIGMA_AETL_TRANSACTION_SIZE": "2"}
    assert cli.run("ingest", "shipment@1", path, env=env).exit_code == 0
    assert cli.run("ingest", "shipment@1", path, "--transaction-size", "3", env=env).exit_code == 0
    assert batches == [2, 2, 1, 3, 2]


def test_invalid_setting_in_the_environment_exits_2(cli: Cli) -> None:
    """A settings variable that cannot be parsed is a one-line error naming the setting."""
    result = cli.run("stats", env={"SIGMA_AETL_PORT": "eighty"})
    assert result.exit_code == 2
    assert result.stderr.startswith("error: invalid settings")
    assert "port:" in result.stderr


def test_unsupported_store_url_is_reported_without_its_password(cli: Cli) -> None:
    """A store URL that cannot be opened is exit 2, and a password in it is masked in the message."""
    result = cli.run("stats", store="foo://admin:hunter2@db.example/sigma")
    assert result.exit_code == 2
    assert "foo://admin:***@db.example/sigma" in result.stderr
    assert "hunter2" not in result.output


def test_version(cli: Cli) -> None:
    """--version prints the package version."""
    result = cli.invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"sigma-aetl {__version__}"


def test_no_arguments_shows_help_listing_the_commands(cli: Cli) -> None:
    """Running without a command prints help that lists every command."""
    result = cli.invoke()
    for command in ("serve", "ingest", "validate", "contracts", "failures", "stats"):
        assert command in result.output


def test_serve_help(cli: Cli) -> None:
    """``serve --help`` documents the listen options."""
    result = cli.run("serve", "--help")
    assert result.exit_code == 0
    assert "--host" in result.stdout
    assert "--port" in result.stdout


def test_serve_runs_uvicorn_with_the_app_and_settings(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """``serve`` builds the app from the settings (with --host/--port applied) and hands it to uvicorn,
    on a socket already listening at that address."""
    built: list[Settings] = []
    served: dict[str, Any] = {}
    app = object()

    def create_app(settings: Settings) -> object:
        built.append(settings)
        return app

    def run_server(config: uvicorn.Config, sock: socket.socket) -> None:
        served.update(app=config.app, host=config.host, port=config.port, listening=sock.getsockname())
        served.update(log_level=config.log_level, access_log=config.access_log)
        served.update(proxy_headers=config.proxy_headers)

    monkeypatch.setattr("sigma_aetl.http.app.create_app", create_app)
    monkeypatch.setattr(serve_cmd, "run_server", run_server)
    configure = lambda level, log_format="console": served.update(configured=level)  # noqa: E731
    monkeypatch.setattr(logs, "configure", configure)
    result = cli.run("serve", "--host", "127.0.0.1", "--port", "0", "--watch-contracts", "2.5")
    assert result.exit_code == 0, result.output
    [settings] = built
    assert (settings.host, settings.port, settings.store_url) == ("127.0.0.1", 0, cli.store_url)
    assert settings.contracts_watch_interval == 2.5
    assert served.pop("listening")[0] == "127.0.0.1"
    assert served == {
        "app": app,
        "host": "127.0.0.1",
        "port": 0,
        "log_level": "info",
        "access_log": False,
        "proxy_headers": False,
        "configured": "info",
    }


def test_serve_trusts_proxies_and_logs_requests_only_when_asked(cli: Cli) -> None:
    """SIGMA_AETL_FORWARDED_ALLOW_IPS turns uvicorn's proxy headers on for those peers; ACCESS_LOG its log."""
    settings = Settings(forwarded_allow_ips="10.0.0.5,10.1.0.0/16", access_log=True)
    options = serve_cmd.uvicorn_options(settings)
    assert options["proxy_headers"] is True
    assert options["forwarded_allow_ips"] == "10.0.0.5,10.1.0.0/16"
    assert options["access_log"] is True


def test_progress_bar_only_on_a_terminal(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """A progress bar is drawn when stdout is a terminal, never with --json."""
    monkeypatch.setattr(ingest_cmd, "stdout_is_terminal", lambda: True)
    path = cli.jsonl(*[VALID_SHIPMENT] * 3)
    shown = cli.run("ingest", "shipment@1", str(path), env={"TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "1"})
    assert shown.exit_code == 0, shown.output
    assert "ingesting events.jsonl" in shown.stdout
    quiet = cli.run("ingest", "shipment@1", str(path), "--json", env={"TTY_COMPATIBLE": "1"})
    assert "ingesting" not in quiet.stdout
