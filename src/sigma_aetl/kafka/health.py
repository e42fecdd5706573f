"""The worker's liveness and readiness: a thread-safe state, and an optional tiny HTTP server for it.

``GET /healthz`` answers 200 while the process runs. ``GET /readyz`` answers 200 ``{"status": "ready",
...}`` only when all of these hold:

- the worker consumes (it has subscribed and not stopped) and its last store write succeeded;
- the store answers (the worker pings it when idle);
- a Kafka broker answered recently: a consumed batch, or a metadata request the worker sends when no
  message came for a while (:data:`BROKER_STALE_AFTER` bounds "recently"), and no call to Kafka has been
  waiting longer than its bound (:meth:`Health.waiting`: a synchronous commit to a broker that went away
  blocks for the group's whole session timeout, 45 s by default, and the worker's loop with it);
- the consumer group assigned this member its partitions (possibly none, when the group has more
  members than partitions).

Otherwise 503 ``{"status": "not_ready", "reason": ...}`` with the first reason in that order. Both bodies
carry the contracts serving (``contracts``, ``registry``) and the latest contract reload (``reload``), if
any: a refused reload does not make the worker unready (its contracts keep serving). The bodies are JSON.

``GET /metrics`` answers the worker's Prometheus metrics in the text format (``ingest/metrics.py``: the
decisions it stored, latencies, consumer lag per partition), or 404 when metrics are off. Under
``/admin/`` the flood guard's paused partitions are listed and resumed (``admin.py``, scope ``admin``
once any API key exists; 503 until the worker has opened its store). Nothing else is served.
"""

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

import orjson

from sigma_aetl import logs
from sigma_aetl.ingest.metrics import CONTENT_TYPE, Metrics
from sigma_aetl.kafka.admin import Admin, Answer, problem

_log = logs.get("kafka.health")

BROKER_STALE_AFTER = 60.0
"""Seconds after the last broker answer at which the worker is no longer ready. The worker asks a broker
every few seconds while idle, so only a worker stuck away from Kafka that long reaches it."""

WAIT_LIMIT = 5.0
"""Seconds a call to Kafka may wait beyond its own timeout before the worker is no longer ready: a healthy
broker answers a commit within milliseconds."""

CONDITIONS = ("worker", "store", "broker", "group")
"""What readiness needs, in the order ``/readyz`` reports the first one missing."""


class Health:
    """Whether the worker is ready, and why not."""

    def __init__(
        self, *, clock: Callable[[], float] = time.monotonic, stale_after: float = BROKER_STALE_AFTER
    ) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._stale_after = stale_after
        self._problems: dict[str, str] = {"worker": "starting"}
        self._broker_seen: float | None = None
        self._waiting: tuple[str, float, float] | None = None  # what, since, overdue after
        self._details: dict[str, Any] = {}

    def ready(self) -> None:
        """The worker consumes, and its last store write succeeded (the store answers)."""
        with self._lock:
            self._problems.pop("worker", None)
            self._problems.pop("store", None)

    def not_ready(self, reason: str) -> None:
        """The worker cannot make progress right now, because of ``reason``."""
        self.problem("worker", reason)

    def problem(self, condition: str, reason: str | None) -> None:
        """``condition`` (one of :data:`CONDITIONS`) fails because of ``reason``; None: it holds."""
        with self._lock:
            if reason is None:
                self._problems.pop(condition, None)
            else:
                self._problems[condition] = reason

    def broker_answered(self, at: float | None = None) -> None:
        """A broker answered (a batch, an assignment, a metadata request) at ``at`` (the clock's time;
        default now)."""
        with self._lock:
            self._broker_seen = self._clock() if at is None else at
            self._problems.pop("broker", None)

    @contextmanager
    def waiting(self, doing: str, limit: float = WAIT_LIMIT) -> Iterator[None]:
        """The worker's thread calls Kafka (``doing``, e.g. "committing the stored offsets") inside this
        block; once it has waited more than ``limit`` seconds, the worker is not ready: "no Kafka broker
        answered while <doing> for N s". Read by the health server's thread, which never waits for it."""
        started = self._clock()
        with self._lock:
            self._waiting = (doing, started, started + limit)
        try:
            yield
        finally:
            with self._lock:
                self._waiting = None

    def details(self, **values: Any) -> None:
        """Facts shown on ``/readyz`` whatever the status (the contracts serving, the last reload)."""
        with self._lock:
            self._details.update(values)

    @property
    def reason(self) -> str | None:
        """Why the worker is not ready; None when it is."""
        with self._lock:
            now = self._clock()
            for condition in CONDITIONS:
                if condition in self._problems:
                    return self._problems[condition]
                if condition == "broker" and (silent := self._silent_broker(now)) is not None:
                    return silent
            return None

    def _silent_broker(self, now: float) -> str | None:
        """Why no broker counts as answering at ``now`` (a call overdue, or no answer for too long)."""
        if self._waiting is not None:
            doing, since, overdue_after = self._waiting
            if now > overdue_after:
                return f"no Kafka broker answered while {doing} for {now - since:.0f} s"
        seen = self._broker_seen
        if seen is not None and (age := now - seen) > self._stale_after:
            return f"no Kafka broker has answered for {age:.0f} s"
        return None

    def readiness(self) -> tuple[int, dict[str, Any]]:
        """The ``/readyz`` answer: status code and body."""
        reason = self.reason
        with self._lock:
            details = dict(self._details)
        if reason is None:
            return HTTPStatus.OK, {"status": "ready", **details}
        return HTTPStatus.SERVICE_UNAVAILABLE, {"status": "not_ready", "reason": reason, **details}


class HealthServer:
    """Serves ``/healthz`` and ``/readyz`` for a :class:`Health` on ``host:port`` in a daemon thread.

    Port 0 picks a free port; :attr:`port` tells which. With ``metrics``, ``/metrics`` serves them; once
    :attr:`admin` is set (the worker has its store), ``/admin/`` answers.
    """

    def __init__(self, health: Health, host: str, port: int, metrics: Metrics | None = None) -> None:
        self.health = health
        self.admin: Admin | None = None
        self._server = ThreadingHTTPServer((host, port), _handler(health, metrics, lambda: self.admin))
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


def _handler(
    health: Health, metrics: Metrics | None, admin: Callable[[], Admin | None]
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.startswith("/admin/"):
                self._admin("GET")
            elif self.path == "/healthz":
                self._answer(HTTPStatus.OK, {"status": "ok"})
            elif self.path == "/readyz":
                self._answer(*health.readiness())
            elif self.path == "/metrics" and metrics is not None:
                self._send(HTTPStatus.OK, metrics.exposition(), CONTENT_TYPE)
            else:
                self._answer(HTTPStatus.NOT_FOUND, {"status": "not_found", "path": self.path})

        def do_POST(self) -> None:
            self._discard_body()
            if self.path.startswith("/admin/"):
                self._admin("POST")
            else:
                self._answer(HTTPStatus.NOT_FOUND, {"status": "not_found", "path": self.path})

        def _admin(self, method: str) -> None:
            found = admin()
            answer: Answer = (
                problem(503, "The worker is starting: its store is not open yet.", self.path)
                if found is None
                else found.answer(method, self.path, {k.lower(): v for k, v in self.headers.items()})
            )
            self._send(*answer)

        def _discard_body(self) -> None:
            length = self.headers.get("Content-Length", "0")
            self.rfile.read(min(int(length), 65_536) if length.isdigit() else 0)

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            self._send(status, orjson.dumps(body), "application/json")

        def _send(self, status: int, data: bytes, media_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", media_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            """Probes every few seconds would flood the log; stay quiet."""

    return Handler
