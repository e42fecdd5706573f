"""Replays started over HTTP (``POST /v1/replays``): each a background job in a thread of its own, with a
store handle of its own, so a long replay never holds up ingestion (it writes beside the gateway's writer,
as a purge does: see docs/architecture.md, the write path).

The run is stored before :meth:`ReplayJobs.start` returns, so ``GET /v1/replays/{id}`` finds it at once;
the job stores its progress after every batch. Closing stops the jobs between two batches (each stored
run then says ``failed``, stopped: the same replay again finishes the work) and waits for them.
"""

import threading
from collections.abc import Callable

from sigma_aetl import logs
from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core.contract import Contract
from sigma_aetl.errors import StoreUnavailable
from sigma_aetl.ingest.replay import Replayer, ReplayRequest, target_of
from sigma_aetl.settings import Settings
from sigma_aetl.stores import Store, open_store
from sigma_aetl.stores.base import ReplayRun

JOIN_SECONDS = 30.0
"""How long closing waits for each job to stop after its batch in flight."""
_log = logs.get("replay")


class ReplayJobs:
    """The gateway's background replays."""

    def __init__(self, settings: Settings, registry: Callable[[], Registry], store: Store) -> None:
        self._settings = settings
        self._registry = registry
        self._store = store
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def start(self, request: ReplayRequest) -> ReplayRun:
        """Check the target, store the run, start its job; raises ReplayRefused or StoreError
        (StoreUnavailable once closing)."""
        target = target_of(self._registry(), request.to, allow_draft=request.allow_draft)
        run = Replayer(self._store, target, self._settings.limits).start(request)
        self._store.save_replay(run)
        thread = threading.Thread(target=self._job, args=(target, run), name=f"replay-{run.replay_id}")
        with self._lock:
            if self._stop.is_set():
                raise StoreUnavailable("the gateway is shutting down: no replay starts now")
            self._threads = [alive for alive in self._threads if alive.is_alive()]
            self._threads.append(thread)
            thread.start()
        return run

    def _job(self, target: Contract, run: ReplayRun) -> None:
        """Run the replay on a store handle of its own; its outcome is the stored run."""
        try:
            store = open_store(self._settings.store_url)
        except Exception as exc:  # noqa: BLE001 - a thread's error has nowhere else to go
            failed = run.model_copy(update={"state": "failed", "error": f"the store cannot be opened: {exc}"})
            _save_quietly(self._store, failed)
            return
        try:
            replayer = Replayer(store, target, self._settings.limits)
            done = replayer.run(run, stop=self._stop.is_set)
            counts = done.summary.model_dump(exclude={"still_failing_by_root_cause"})
            _log.info("replay.done", replay_id=run.replay_id, **counts)
        except Exception as exc:  # noqa: BLE001 - the run is stored failed, with the error
            _log.warning("replay.failed", replay_id=run.replay_id, error=str(exc))
        finally:
            store.close()

    def close(self, timeout: float = JOIN_SECONDS) -> None:
        """Stop every job after its batch in flight, and wait for them."""
        with self._lock:
            self._stop.set()
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)


def _save_quietly(store: Store, run: ReplayRun) -> None:
    try:
        store.save_replay(run)
    except Exception:  # noqa: BLE001 - nothing more can be done from a background thread
        _log.warning("replay.unsaved", replay_id=run.replay_id)
