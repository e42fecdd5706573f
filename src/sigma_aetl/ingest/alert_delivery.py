"""Where a flood-guard alert goes once raised: the store, and an optional webhook, never on the hot path.

Each destination is a :class:`Lane`: a bounded queue and one daemon thread of its own, so a slow webhook
never delays the store's copy, and neither ever delays ingestion (:meth:`Deliveries.put` only enqueues).

- **The store**: ``store.save_alert`` (idempotent by ``alert_id``). A store error is logged
  (``flood.alert_not_saved``), never raised to the pipeline: the events themselves are stored already.
- **The webhook** (``SIGMA_AETL_FLOOD_WEBHOOK_URL``): a POST of the alert's JSON, ``attempts`` times at
  most, each bounded by ``timeout`` seconds, waiting ``backoff`` seconds before the second and twice as
  long before each next one. Any 2xx is delivered; anything else, a refused connection or a timeout is
  retried. When the attempts run out, or when the queue is full (:data:`QUEUE_SIZE` alerts waiting), the
  alert is logged (``flood.webhook_failed``) and counted (``sigma_aetl_flood_webhook_failures_total``).

:meth:`Deliveries.close` lets what is queued go out for a bounded time (``sigma-aetl ingest`` ends right
after its last batch), then leaves the daemon threads behind.
"""

import queue
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from sigma_aetl import logs
from sigma_aetl.core.alerts import Alert
from sigma_aetl.errors import StoreError
from sigma_aetl.stores import Store

_log = logs.get("flood")

QUEUE_SIZE = 1000
"""Alerts waiting per destination at most (the guard's hysteresis keeps them rare)."""
CLOSE_TIMEOUT = 10.0
"""Seconds :meth:`Deliveries.close` waits for each destination to empty its queue."""


@dataclass(frozen=True, slots=True)
class Webhook:
    """Where and how patiently alerts are posted."""

    url: str
    timeout: float = 5.0
    attempts: int = 3
    backoff: float = 1.0


class Lane:
    """A bounded queue of alerts and the one thread handing each to ``handle`` (None in the queue: stop)."""

    def __init__(self, name: str, handle: Callable[[Alert], None], size: int = QUEUE_SIZE) -> None:
        self._handle = handle
        self._queue: queue.Queue[Alert | None] = queue.Queue(maxsize=size)
        self._thread = threading.Thread(target=self._run, name=f"flood-{name}", daemon=True)
        self._thread.start()

    def put(self, alert: Alert) -> bool:
        """Queue ``alert``; False when the queue is full (nothing is queued)."""
        try:
            self._queue.put_nowait(alert)
        except queue.Full:
            return False
        return True

    def close(self, timeout: float) -> None:
        """Stop once what is queued is handled, waiting at most ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            return
        self._thread.join(max(0.0, deadline - time.monotonic()))

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            try:
                self._handle(item)
            except Exception as exc:  # noqa: BLE001 - a destination's bug must not kill its lane
                _log.error("flood.delivery_failed", alert_id=item.alert_id, error=repr(exc))


class Deliveries:
    """The store's lane and, when configured, the webhook's; see the module docstring."""

    def __init__(self, store: Store, webhook: Webhook | None, webhook_queue: int = QUEUE_SIZE) -> None:
        self.store = store
        self.webhook = webhook
        self.webhook_failed: Callable[[], None] = lambda: None
        """Called for each alert the webhook did not take (the monitor counts them)."""
        self._stop = threading.Event()
        self._saving = Lane("store", self._save)
        self._posting = None if webhook is None else Lane("webhook", self._post, webhook_queue)

    def put(self, alert: Alert) -> None:
        """Hand ``alert`` to each destination without waiting; a full queue is logged (and counted)."""
        if not self._saving.put(alert):
            _log.error("flood.alert_not_saved", alert_id=alert.alert_id, error="the store's queue is full")
        if self._posting is not None and not self._posting.put(alert):
            self._failed(alert, "the webhook's queue is full", 0)

    def close(self, timeout: float = CLOSE_TIMEOUT) -> None:
        """Deliver what is queued, for at most ``timeout`` seconds per destination."""
        self._saving.close(timeout)
        if self._posting is not None:
            self._posting.close(timeout)
        self._stop.set()  # a webhook still retrying stops waiting between attempts

    def _save(self, alert: Alert) -> None:
        try:
            self.store.save_alert(alert)
        except StoreError as exc:
            _log.error("flood.alert_not_saved", alert_id=alert.alert_id, error=str(exc))

    def _post(self, alert: Alert) -> None:
        hook, body = self.webhook, alert.model_dump_json().encode()
        if hook is None:  # no lane posts without a webhook
            return
        for attempt in range(hook.attempts):
            try:
                post_json(hook.url, body, hook.timeout)
            except (
                OSError,
                ValueError,
            ) as exc:  # urllib's errors (HTTPError, URLError, timeouts) are OSError
                error = str(exc)
            else:
                _log.info("flood.webhook_sent", alert_id=alert.alert_id, attempts=attempt + 1)
                return
            if attempt + 1 < hook.attempts and self._stop.wait(hook.backoff * 2.0**attempt):
                break
        self._failed(alert, error, hook.attempts)

    def _failed(self, alert: Alert, error: str, attempts: int) -> None:
        _log.error("flood.webhook_failed", alert_id=alert.alert_id, error=error, attempts=attempts)
        self.webhook_failed()


def post_json(url: str, body: bytes, timeout: float) -> None:
    """POST ``body`` as JSON to ``url``; raises OSError (urllib's HTTPError for a status of 400 or more)."""
    headers = {"Content-Type": "application/json", "User-Agent": "sigma-aetl"}
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    with urllib.request.urlopen(request, timeout=timeout) as answer:
        answer.read()
