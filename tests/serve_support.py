"""``sigma-aetl serve`` as a real process (``python -m sigma_aetl serve``): uvicorn in its own main thread,
so it takes signals as in production; its log in a file."""

import signal
import socket
import subprocess
import sys
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from cli_support import clean_environ
from log_support import log_events
from sigma_aetl.testing import JSON_HEADERS, wait_until

STARTUP_TIMEOUT = 30.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def serve_command(store: Path, contracts: Path, *args: str) -> list[str]:
    """The command line of ``serve`` over a SQLite file and a contracts directory."""
    program = [sys.executable, "-m", "sigma_aetl", "--store", f"sqlite:///{store}"]
    return [*program, "--contracts", str(contracts), "serve", *args]


class ServeProcess:
    """A running ``serve`` on a free loopback port (or ``port``, one a client was already told about);
    stopped with SIGINT (then killed) on exit."""

    def __init__(
        self,
        workdir: Path,
        contracts: Path,
        *args: str,
        env: dict[str, str] | None = None,
        port: int | None = None,
    ) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.store = workdir / "gateway.db"
        self.log = workdir / "serve.log"
        command = serve_command(self.store, contracts, "--port", str(self.port), *args)
        with self.log.open("ab") as out:
            environ = {**clean_environ(), **(env or {})}  # env: settings for this test only
            self.process = subprocess.Popen(command, stdout=out, stderr=out, cwd=workdir, env=environ)
        self.http = httpx.Client(base_url=self.url, timeout=30, headers=JSON_HEADERS)

    def __enter__(self) -> "ServeProcess":
        wait_until(self._answers, STARTUP_TIMEOUT, "serve to answer /healthz", detail=self._tail)
        return self

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"serve exited ({self.process.returncode}): {self._tail()}")
        try:
            return self.http.get("/healthz").status_code == 200
        except httpx.TransportError:
            return False

    def _tail(self) -> str:
        return self.log.read_text()[-3000:]

    def ready(self) -> dict[str, Any]:
        """``GET /readyz``, which must answer 200; its body."""
        response = self.http.get("/readyz")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def wait_reload(self, status: str, timeout: float = 30) -> dict[str, Any]:
        """Wait until ``/readyz`` shows a reload that ended with ``status``; that reload."""
        wait_until(
            lambda: self.ready().get("reload", {}).get("status") == status, timeout, f"a {status} reload"
        )
        reload: dict[str, Any] = self.ready()["reload"]
        return reload

    def signal(self, signum: signal.Signals) -> None:
        """Send ``signum`` to the process."""
        self.process.send_signal(signum)

    def wait(self, timeout: float = 30) -> int:
        """The exit code, once the process has exited."""
        return self.process.wait(timeout=timeout)

    def events(self, name: str) -> list[dict[str, Any]]:
        """The structured log lines whose event is ``name``."""
        return log_events(self.log, name)

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.http.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
