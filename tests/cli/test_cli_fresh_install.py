"""The first hour from a fresh install: the wheel built from this tree, installed alone into a new virtual
environment, works in an empty directory — init, serve, an HTTP event, an ingested file, records read back.

The new environment gets the dependencies without a network: a ``.pth`` file puts the running
environment's site-packages on its path, after its own, and only the wheel is installed (``--no-deps``).
Building the wheel needs the build backend (setuptools, from ``[build-system]``), which pip fetches
from the configured index into an isolated build environment, as it does for any ``pip install``.
"""

import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from cli_support import clean_environ
from sigma_aetl import examples
from sigma_aetl.core.ids import record_id
from sigma_aetl.testing import JSON_HEADERS, wait_until

ROOT = Path(__file__).parents[2]
TIMEOUT = 120


@dataclass
class Install:
    """A fresh virtual environment holding only the wheel, and the environment to run its commands in."""

    venv: Path
    env: dict[str, str]

    @property
    def script(self) -> str:
        """The installed console script."""
        return str(self.venv / "bin" / "sigma-aetl")

    def run(self, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        """Run ``sigma-aetl ARGS`` in ``cwd``; the test fails on a hang, not on a non-zero exit."""
        command = [self.script, *args]
        return subprocess.run(
            command, cwd=cwd, env=self.env, capture_output=True, text=True, timeout=TIMEOUT, check=False
        )


def outside_the_tree() -> dict[str, str]:
    """The environment without SIGMA_AETL_* settings and without PYTHONPATH: with this tree's src/ on the
    path (and its egg-info there), pip would take sigma-aetl as installed and Python import it from here."""
    return {key: value for key, value in clean_environ().items() if key not in ("PYTHONPATH", "PYTHONHOME")}


def checked(argv: list[str]) -> str:
    """Run a setup step outside the tree; a failure shows its output."""
    done = subprocess.run(
        argv, env=outside_the_tree(), capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert done.returncode == 0, f"{argv} failed:\n{done.stdout}\n{done.stderr}"
    stdout: str = done.stdout
    return stdout


def build_wheel(into: Path) -> Path:
    """The wheel of this tree, built from a copy of what a wheel is made of (so the tree stays clean)."""
    source = into / "source"
    source.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    wheels = into / "wheels"
    checked([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels), str(source)])
    [wheel] = wheels.glob("sigma_aetl-*.whl")
    return wheel


@pytest.fixture(scope="module")
def install(tmp_path_factory: pytest.TempPathFactory) -> Install:
    """``pip install --no-deps`` of the wheel into a new venv that borrows this environment's packages."""
    base = tmp_path_factory.mktemp("fresh-install")
    wheel = build_wheel(base)
    venv = base / "venv"
    checked([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = str(venv / "bin" / "python")
    # the wheel first: with the shared packages (the editable sigma-aetl's metadata among them) already on
    # the path, pip would take sigma-aetl as installed
    checked([sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps", str(wheel)])
    site = Path(checked([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]).strip())
    shared = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (site / "zz-shared-dependencies.pth").write_text("".join(f"{path}\n" for path in sorted(shared)))
    where = checked([python, "-c", "import sigma_aetl; print(sigma_aetl.__file__)"])
    assert Path(where.strip()).is_relative_to(venv), f"sigma_aetl imported from {where}, not the new venv"
    return Install(venv, outside_the_tree())


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    """``sigma-aetl serve`` running as a process, and a client of it."""

    process: subprocess.Popen[bytes]
    client: httpx.Client
    log: Path

    def ready(self) -> bool:
        """Whether /readyz answers 200; raises if the process died (it never will be)."""
        if self.process.poll() is not None:
            raise AssertionError(f"serve exited with {self.process.returncode}:\n{self.log.read_text()}")
        try:
            return self.client.get("/readyz").status_code == 200
        except httpx.TransportError:
            return False


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """An empty directory, as on a first day."""
    path = tmp_path / "first-day"
    path.mkdir()
    return path


@pytest.fixture
def server(install: Install, workdir: Path) -> Iterator[Server]:
    """``sigma-aetl init`` in the empty directory, then ``sigma-aetl serve`` there on a free port."""
    initialised = install.run("init", cwd=workdir)
    assert initialised.returncode == 0, initialised.stderr
    (workdir / "init.out").write_text(initialised.stdout)
    port = free_port()
    log = workdir.parent / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [install.script, "serve", "--port", str(port)],
            cwd=workdir,
            env=install.env,
            stdout=out,
            stderr=out,
        )
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30, headers=JSON_HEADERS) as client:
        running = Server(process, client, log)
        try:
            wait_until(running.ready, 60, "serve to answer /readyz", detail=log.read_text)
            yield running
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def test_the_first_hour_from_a_fresh_install(install: Install, workdir: Path, server: Server) -> None:
    """In an empty directory: init, serve, one event over HTTP, the sample file ingested while serving,
    the records read back over HTTP and the dashboard drawn — with nothing but the installed wheel."""
    created = sorted(p.relative_to(workdir).as_posix() for p in workdir.rglob("*") if "pycache" not in str(p))
    for path in ("contracts/contracts.lock.json", "contracts/shipment/v1.py", "data", "shipments.jsonl"):
        assert path in created
    first = examples.SAMPLE_EVENTS.read_bytes().splitlines()[0]
    sent = server.client.post("/v1/ingest/shipment/1", content=first).json()
    assert (sent["status"], sent["duplicate"]) == ("PASSED", False)
    assert f"/v1/records/{sent['record_id']}" in (workdir / "init.out").read_text()

    ingested = install.run("ingest", "shipment@1", "shipments.jsonl", "--json", cwd=workdir)
    assert ingested.returncode == 0, ingested.stderr
    summary = json.loads(ingested.stdout)
    assert (summary["accepted"], summary["failed"], summary["duplicates"]) == (2, 3, 2)

    for shipment_id in ("SHIP-0001", "SHIP-0002", "SHIP-0003"):
        record = server.client.get(f"/v1/records/{record_id('shipment', 1, [shipment_id])}")
        assert record.status_code == 200, record.text
        assert record.json()["data"]["shipment_id"] == shipment_id
    assert server.client.get("/v1/stats").json()["failures_total"] == 3
    assert server.client.post("/api/validate", content=first).json()["status"] == "PASSED"
    page = server.client.get("/ui")  # the dashboard's templates and style sheet are the wheel's package data
    assert page.status_code == 200, page.text
    assert "3</span> failure records" in page.text
    [css] = re.findall(r'href="(/ui/static/ui\.css\?v=[0-9a-f]+)"', page.text)
    assert server.client.get(css).headers["content-type"] == "text/css; charset=utf-8"
    failures = install.run("failures", "list", "--json", cwd=workdir)
    assert json.loads(failures.stdout)["total"] == 3

    server.process.send_signal(signal.SIGINT)
    assert server.process.wait(timeout=30) == 0
