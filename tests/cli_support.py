"""Helpers for the command-line tests: ``Cli`` runs ``sigma-aetl`` in-process on a temporary store."""

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from sigma_aetl.cli.app import app
from sigma_aetl.stores.sqlite.store import SqliteStore

CONTRACTS = Path(__file__).parents[1] / "contracts"
SCRIPT = Path(sys.executable).parent / "sigma-aetl"
# Variables that would change what the CLI or rich does, whatever the test asks for.
_AMBIENT = ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS", "LINES")


def clean_environ() -> dict[str, str]:
    """The current environment without SIGMA_AETL_* settings or rich's terminal overrides."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("SIGMA_AETL_") and key not in _AMBIENT
    }


@dataclass
class Cli:
    """``sigma-aetl`` run in-process with ``--store`` on a temporary file and the repository's contracts."""

    tmp_path: Path
    runner: CliRunner = field(default_factory=CliRunner)

    @property
    def db(self) -> Path:
        """The SQLite file the commands use."""
        return self.tmp_path / "t.db"

    @property
    def store_url(self) -> str:
        """``sqlite:////abs/path/t.db``."""
        return f"sqlite:///{self.db}"

    def run(
        self,
        *args: str,
        stdin: bytes | None = None,
        env: dict[str, str] | None = None,
        store: str | None = None,
        contracts: Path = CONTRACTS,
    ) -> Result:
        """Invoke the app with the global options first; an unexpected exception fails the test."""
        argv = ["--store", store or self.store_url, "--contracts", str(contracts), *args]
        return self.invoke(*argv, stdin=stdin, env=env)

    def invoke(self, *argv: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> Result:
        """Invoke the app with exactly ``argv``."""
        result = self.runner.invoke(app, list(argv), input=stdin, env=env)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result

    def json(self, *args: str, code: int = 0) -> Any:
        """Invoke with ``--json``, check the exit code, and parse stdout (which must be only JSON)."""
        result = self.run(*args, "--json")
        assert result.exit_code == code, result.output
        return json.loads(result.stdout)

    def ingest(self, path: Path, ref: str = "shipment@1", *options: str) -> dict[str, Any]:
        """``ingest REF PATH --json``: the summary."""
        summary: dict[str, Any] = self.json("ingest", ref, str(path), *options)
        return summary

    def ingest_stdin(self, *lines: bytes, ref: str = "shipment@1") -> dict[str, Any]:
        """``ingest REF - --json`` with ``lines`` on standard input (events identified by their bytes)."""
        result = self.run("ingest", ref, "-", "--json", stdin=b"".join(line + b"\n" for line in lines))
        assert result.exit_code == 0, result.output
        summary: dict[str, Any] = json.loads(result.stdout)
        return summary

    def stats(self) -> dict[str, Any]:
        """``stats --json``."""
        stats: dict[str, Any] = self.json("stats")
        return stats

    def jsonl(self, *lines: bytes, name: str = "events.jsonl", newline: bytes = b"\n") -> Path:
        """Write ``lines`` as a JSON Lines file, each followed by ``newline``."""
        path = self.tmp_path / name
        path.write_bytes(b"".join(line + newline for line in lines))
        return path

    @contextmanager
    def store(self) -> Iterator[SqliteStore]:
        """The store the commands wrote to, opened directly."""
        store = SqliteStore(self.db, writer="inline")
        try:
            yield store
        finally:
            store.close()
