"""Public test helpers: a real uvicorn server in a thread, waiting on a condition with a deadline, and the
acceptance payloads.

Usage::

    with ServerThread(create_app(settings)) as server:
        httpx.post(f"{server.url}/api/validate", content=VALID_SHIPMENT, headers=JSON_HEADERS)

    wait_until(lambda: store.stats().accepted_total == 3, 10, "three records stored")
"""

import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import uvicorn

JSON_HEADERS = {"content-type": "application/json"}
"""What a JSON producer sends with its events: the gateway refuses a body without a JSON content type."""
VALID_SHIPMENT = (
    b'{"shipment_id": "SHIP-TRUE-003", "weight_kg": 15.2, "destination": "Dublin", "priority": 2}'
)
INVALID_SHIPMENT = b'{"shipment_id": "", "weight_kg": -5, "destination": "Dublin"}'
HEAVY_SHIPMENT = b'{"shipment_id": "SHIP-HEAVY-1", "weight_kg": 1500, "destination": "Cork", "priority": 1}'
STRING_PRIORITY = b'{"shipment_id": "SHIP-STR-1", "weight_kg": 3, "destination": "Cork", "priority": "2"}'
EXTRA_FIELD = (
    b'{"shipment_id": "SHIP-X-1", "weight_kg": 3, "destination": "Cork", "priority": 2, "colour": "red"}'
)
TRUNCATED = b'{"shipment_id": '
INVALID_UTF8 = b'{"shipment_id": "SHIP-\xff\xfe", "weight_kg": 3, "destination": "Cork", "priority": 2}'


def wait_until(
    condition: Callable[[], bool],
    timeout: float,
    what: str,
    *,
    poll: float = 0.05,
    detail: Callable[[], str] | None = None,
) -> None:
    """Poll ``condition`` until it holds; fail (``AssertionError``) saying ``what`` did not happen within
    ``timeout`` seconds, followed by ``detail()`` (a log tail, say) when given.

    A condition may raise to fail at once (a process that died will never satisfy it). Prefer this to a
    sleep: a sleep followed by an assertion passes whenever the sleep was too short to see the failure.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            extra = f"\n{detail()}" if detail else ""
            raise AssertionError(f"timed out after {timeout}s waiting for {what}{extra}")
        time.sleep(poll)


class ServerThread:
    """Serve an ASGI app with a real uvicorn on 127.0.0.1, on a free port, in a daemon thread."""

    def __init__(self, app: Any, *, startup_timeout: float = 20.0, **options: Any) -> None:
        """``options`` are more of uvicorn's (``proxy_headers=False``, ...)."""
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        defaults: dict[str, Any] = {"log_level": "warning", "access_log": False, "lifespan": "on"}
        config = uvicorn.Config(app, **{**defaults, **options})
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name="uvicorn-test", daemon=True)
        self._timeout = startup_timeout

    def _run(self) -> None:
        self.server.run(sockets=[self._sock])

    def start(self) -> "ServerThread":
        """Start serving; return once uvicorn accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + self._timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Ask uvicorn to shut down gracefully and wait for it."""
        self.server.should_exit = True
        self._thread.join(timeout=self._timeout)
        self._sock.close()

    def __enter__(self) -> "ServerThread":
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
