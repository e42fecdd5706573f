"""Fixtures for the command line: a runner on a temporary SQLite store and the repository's contracts."""

import os
from pathlib import Path

import pytest

from cli_support import Cli, clean_environ


@pytest.fixture(autouse=True)
def _hermetic_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run every CLI test as if no SIGMA_AETL_* variable were set on this machine."""
    for key in os.environ.keys() - clean_environ().keys():
        monkeypatch.delenv(key)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """The command line over a fresh store in ``tmp_path``."""
    return Cli(tmp_path)
