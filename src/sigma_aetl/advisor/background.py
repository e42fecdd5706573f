"""The advisor beside ``serve``: its own thread, event loop and store handle, so ingestion never waits.

The gateway's event loop, its group committer and its store handle are not shared with the advisor: a
slow, failing or unreachable model only ever occupies this thread. Stopping cancels the advisor at once,
calls in flight included (serve's shutdown never waits on a model); a job it held stays leased and is
taken again once its lease runs out, so nothing is lost and nothing is advised twice.
"""

import asyncio
import threading
from contextlib import suppress

from sigma_aetl import logs
from sigma_aetl.advisor.client import OllamaModel
from sigma_aetl.advisor.runner import Advisor
from sigma_aetl.contracts.loader import load_registry
from sigma_aetl.settings import Settings
from sigma_aetl.stores import open_store

_log = logs.get("advisor")


def advisor_store_url(url: str) -> str:
    """The store URL for the advisor's own handle: SQLite writes inline (no second writer process: the
    advisor's few writes go beside the gateway's writer, ordered by SQLite's lock, as a key's do)."""
    if not url.startswith("sqlite:") or "writer=" in url:
        return url
    return f"{url}{'&' if '?' in url else '?'}writer=inline"


class BackgroundAdvisor:
    """Runs :class:`Advisor` until :meth:`stop`, on a daemon thread of its own."""

    def __init__(self, settings: Settings) -> None:
        assert settings.advisor_url is not None
        self.settings = settings
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._thread = threading.Thread(target=self._main, name="sigma-aetl-advisor", daemon=True)

    def start(self) -> "BackgroundAdvisor":
        """Start the thread; return once its loop runs."""
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the advisor to stop and wait for it, at most ``timeout`` seconds."""
        loop, task = self._loop, self._task
        if loop is not None and task is not None:
            with suppress(RuntimeError):  # the loop has closed already: the advisor stopped by itself
                loop.call_soon_threadsafe(task.cancel)
        self._thread.join(timeout)

    def _main(self) -> None:
        try:
            asyncio.run(self._serve())
        except asyncio.CancelledError:
            pass
        except Exception as exc:  # noqa: BLE001 - the advisor must never take serve down with it
            _log.error("advisor_stopped", error=str(exc), kind=type(exc).__name__)
        finally:
            self._ready.set()

    async def _serve(self) -> None:
        self._loop, self._task = asyncio.get_running_loop(), asyncio.current_task()
        self._ready.set()
        settings = self.settings
        assert settings.advisor_url is not None
        store = await asyncio.to_thread(open_store, advisor_store_url(settings.store_url))
        model = OllamaModel(settings.advisor_url, settings.advisor_timeout)
        try:
            registry = await asyncio.to_thread(load_registry, settings.contracts_dir)
            _log.info("advisor_started", url=settings.advisor_url, model=settings.advisor_model)
            await Advisor(settings, store, registry, model).run(asyncio.Event())
        finally:
            await model.close()
            store.close()
