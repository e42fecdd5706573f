"""Public test helpers: a real uvicorn server in a thread, and the acceptance payloads.

Usage::

    with ServerThread(create_app(settings)) as server:
        httpx.post(f"{server.url}/api/validate", content=VALID_SHIPMENT)
"""

import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn

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
