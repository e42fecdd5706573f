"""The HTTP app's contract reloads: on SIGHUP, and when the watched contracts directory changes.

Wired by the app's lifespan (``app.py``). The reload itself — reading, compiling and checking every
contract file (``ingest/reload.py``) — runs in a thread, so the event loop keeps serving; the new registry
is then installed *on the event loop*, between two of its steps, so no request sees half of a swap.
Reloads take turns. SIGHUP is taken only when the app runs in the main thread (as under ``sigma-aetl
serve``): signal handlers cannot be installed elsewhere.
"""

import asyncio
import signal
import threading
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any

from sigma_aetl.contracts.registry import Registry
from sigma_aetl.ingest.reload import ContractReloader

Install = Callable[[Registry], None]


class ContractReloading:
    """Runs ``reloader`` on SIGHUP and every ``interval`` seconds when a file changed (0: never)."""

    def __init__(self, reloader: ContractReloader, install: Install, interval: float) -> None:
        self.reloader = reloader
        self._install = install
        self._interval = interval
        self._turn = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._signal = False

    async def __aenter__(self) -> "ContractReloading":
        if threading.current_thread() is threading.main_thread() and hasattr(signal, "SIGHUP"):
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self.request, "SIGHUP")
            self._signal = True
        if self._interval > 0:
            self._spawn(self._watch())
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._signal:
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def request(self, trigger: str) -> None:
        """Start a reload (from the event loop: the SIGHUP handler)."""
        self._spawn(self.reload(trigger))

    async def reload(self, trigger: str) -> bool:
        """Reload, and install the new registry if it loaded cleanly; True when one was installed."""
        async with self._turn:
            registry = await asyncio.to_thread(self.reloader.reload, trigger)
            if registry is None:
                return False
            self._install(registry)
            return True

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            if await asyncio.to_thread(self.reloader.changed):
                await self.reload("watch")

    def _spawn(self, work: Coroutine[Any, Any, object]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)  # kept until done: the loop holds only a weak reference to a task
        task.add_done_callback(self._tasks.discard)
