"""Helpers for the deployment tests: where the deployment files are, the tools next to the interpreter,
and reading the settings every ``SIGMA_AETL_*`` variable must name.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from apt_support import apt_install, can_install
from sigma_aetl.settings import Settings

ROOT = Path(__file__).parents[1]
DEPLOY = ROOT / "deploy"
CHART = DEPLOY / "helm" / "sigma-aetl"


def venv_tool(name: str) -> Path:
    """A tool installed in the test environment beside the interpreter (hadolint, helm, ...)."""
    tool = Path(sys.executable).parent / name
    if not os.access(tool, os.X_OK):
        pytest.fail(f"{name} is missing from the test environment ({tool}): run scripts/bootstrap dev")
    return tool


def system_tool(name: str) -> Path:
    """A tool on PATH (podman, podman-compose); the test fails, saying how to get it, when it is missing."""
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: apt-get install {name} (scripts/podman-base installs podman)")
    return Path(found)


PROMTOOL_PACKAGE = "prometheus"
"""Debian's package that ships promtool (measured here: 9 s, 19 MB downloaded, 96 MB installed)."""


def promtool() -> Path:
    """promtool, installed with apt-get (Debian's ``prometheus`` package, no recommends) when missing and
    this runs as root; otherwise the test fails, saying how to get it."""
    return apt_tool("promtool", PROMTOOL_PACKAGE)


def podman() -> Path:
    """podman, installed with apt-get (no recommends) when missing and this runs as root; otherwise the
    test fails, saying how to get it. (scripts/podman-base installs it too, with what images need.)"""
    return apt_tool("podman", "podman")


def apt_tool(name: str, package: str) -> Path:
    """The tool ``name`` on PATH, installed first from Debian's ``package`` when it is missing and this
    runs as root; otherwise the test fails, saying how to get it."""
    found = shutil.which(name)
    said = ""
    if found is None and can_install():
        said = apt_install(package)
        found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: apt-get install --no-install-recommends {package}\n{said}")
    return Path(found)


def run(command: list[str | Path], timeout: float = 120, env: dict[str, str] | None = None) -> str:
    """Run ``command``; its standard output, or a test failure with both outputs."""
    return run_both(command, timeout, env)[0]


def run_both(
    command: list[str | Path], timeout: float = 120, env: dict[str, str] | None = None
) -> tuple[str, str]:
    """Run ``command``; its standard output and error, or a test failure with both."""
    args = [str(part) for part in command]
    result = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False, env=env)
    if result.returncode != 0:
        output = f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        pytest.fail(f"{args[0]} exited {result.returncode}:\n{output}")
    return result.stdout, result.stderr


SETTINGS_VARIABLES = {f"SIGMA_AETL_{name.upper()}" for name in Settings.model_fields}
"""Every environment variable the gateway reads."""


def unknown_settings(names: set[str]) -> set[str]:
    """Those of ``names`` that start with SIGMA_AETL_ but are no setting (a typo the gateway would refuse)."""
    return {name for name in names if name.startswith("SIGMA_AETL_")} - SETTINGS_VARIABLES
