"""The worker's liveness and readiness: a thread-safe state, and an optional tiny HTTP server for it.

``GET /healthz`` answers 200 while the process runs. ``GET /readyz`` answers 200 ``{"status": "ready"}``
while the worker consumes and its last store write succeeded, and 503 ``{"status": "not_ready",
"reason": ...}`` while it starts, while the store is unavailable (it retries the same batch) and once it
stops. The bodies are JSON; nothing else is served.
"""

import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

import orjson

from sigma_aetl import logs

_log = logs.get("kafka.health")


class Health:
    """Whether the worker is ready, and why not."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reason: str | None = "starting"

    def ready(self) -> None:
        """The worker consumes and stores."""
        with self._lock:
            self._reason = None

    def not_ready(self, reason: str) -> None:
        """The worker cannot make progress right now, because of ``reason``."""
        with self._lock:
            self._reason = reason

    @property
    def reason(self) -> str | None:
        """Why the worker is not ready; None when it is."""
        with self._lock:
            return self._reason

    def readiness(self) -> tuple[int, dict[str, Any]]:
        """The ``/readyz`` answer: status code and body."""
        reason = self.reason
        if reason is None:
            return HTTPStatus.OK, {"status": "ready"}
        return HTTPStatus.SERVICE_UNAVAILABLE, {"status": "not_ready", "reason": reason}


class HealthServer:
    """Serves ``/healthz`` and ``/readyz`` for a :class:`Health` on ``host:port`` in a daemon thread.

    Port 0 picks a free port; :attr:`port` tells which.
    """

    def __init__(self, health: Health, host: str, port: int) -> None:
        self.health = health
        self._server = ThreadingHTTPServer((host, port), _handler(health))
        self._server.daemon_threads = True
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="health", daemon=True)

    def __enter__(self) -> "HealthServer":
        self._thread.start()
        _log.info("health endpoint listening", port=self.port)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _handler(health: Health) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/healthz":
                self._answer(HTTPStatus.OK, {"status": "ok"})
            elif self.path == "/readyz":
                self._answer(*health.readiness())
            else:
                self._answer(HTTPStatus.NOT_FOUND, {"status": "not_found", "path": self.path})

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = orjson.dumps(body)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            """Probes every few seconds would flood the log; stay quiet."""

    return Handler
