"""Group commit: many concurrent requests share one store transaction, run from the event loop.

Each request awaits :meth:`GroupCommitter.store` with its envelopes. One task on the event loop takes
everything queued so far (up to ``max_events``), runs it through the pipeline as one batch — one
transaction — and answers each request with its own outcomes. A request is therefore answered only after
its events are durably stored, and under load many requests pay for one commit instead of one each.

Where the store writes in the background (SQLite's writer process), a small group is decided on the event
loop and handed to the writer, and the loop serves HTTP while the writer commits: it waits on the
writer's pipe, not in a thread. Measured under ``POST /v1/ingest`` with 32 connections, this stored ~40 %
more requests per second than a committer thread, which had to win the GIL back from the event loop at
every step of every group. Large groups (an HTTP batch), and stores whose writes block (MongoDB, SQLite's
inline writer), go through one worker thread instead, so the event loop is never stalled by them.

Groups are written one after another in arrival order, so the pipeline's rules (a second copy is a
duplicate, a second content for an identity is a conflict) hold across requests exactly as across batches.
If the store fails, every request in the group gets the error, and nothing is claimed as stored.
"""

import asyncio
import os
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from sigma_aetl.core.envelope import Envelope
from sigma_aetl.errors import StoreUnavailable
from sigma_aetl.ingest.pipeline import Outcome, Pipeline
from sigma_aetl.stores.base import PendingWrite

_Job = tuple[Sequence[Envelope], "asyncio.Future[list[Outcome]]"]

ON_LOOP_EVENTS = 200
"""Largest group decided on the event loop (about 4 ms of work); larger ones are decided in the thread."""


class GroupCommitter:
    """Stores queued requests' envelopes together, one group at a time."""

    def __init__(self, pipeline: Pipeline, *, max_events: int = 2000) -> None:
        self._pipeline = pipeline
        self._max_events = max_events
        self._queue: deque[_Job | None] = deque()  # None: stop once what is before it is stored
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="group-commit")
        self.groups = 0
        """How many groups (transactions) have been written; for tests and metrics."""

    async def store(self, envelopes: Sequence[Envelope]) -> list[Outcome]:
        """Queue ``envelopes`` and return their outcomes once they are stored."""
        if not envelopes:
            return []
        future: asyncio.Future[list[Outcome]] = asyncio.get_running_loop().create_future()
        self._queue.append((envelopes, future))
        if self._task is None or self._task.done():  # first use, or the task was cancelled: never hang
            self._task = asyncio.create_task(self._run(), name="group-commit")
        self._wake.set()
        return await future

    async def aclose(self) -> None:
        """Store what is queued, then stop."""
        if self._task is not None:
            self._queue.append(None)
            self._wake.set()
            await self._task
            self._task = None
        self._thread.shutdown(wait=True)

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                jobs = self._take()
                if jobs:
                    await self._write(jobs)
                if self._queue and self._queue[0] is None:
                    return

    def _take(self) -> list[_Job]:
        jobs: list[_Job] = []
        size = 0
        while self._queue and (not jobs or size < self._max_events):
            job = self._queue[0]
            if job is None:
                break
            self._queue.popleft()
            jobs.append(job)
            size += len(job[0])
        return jobs

    async def _write(self, jobs: list[_Job]) -> None:
        envelopes = [envelope for batch, _ in jobs for envelope in batch]
        try:
            outcomes = await self._process(envelopes)
        except BaseException as exc:  # every waiting request must learn of it; none may hang
            for _, future in jobs:
                if not future.done():
                    future.set_exception(exc if isinstance(exc, Exception) else StoreUnavailable("stopped"))
            if isinstance(exc, Exception):
                return
            raise
        self.groups += 1
        start = 0
        for batch, future in jobs:
            if not future.done():  # a request whose client went away was cancelled; its events are stored
                future.set_result(outcomes[start : start + len(batch)])
            start += len(batch)

    async def _process(self, envelopes: list[Envelope]) -> list[Outcome]:
        pipeline = self._pipeline
        if len(envelopes) > ON_LOOP_EVENTS or not pipeline.store.writes_in_background:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._thread, pipeline.process, envelopes)
        prepared = pipeline.prepare(envelopes)
        pending = pipeline.submit(prepared)
        await _done(pending)
        return pipeline.finish(prepared, pending)


async def _done(pending: PendingWrite) -> None:
    """Wait, without blocking the event loop, until ``pending.result()`` would not wait."""
    descriptor = pending.fileno()
    if descriptor is None:
        return
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()
    loop.add_reader(descriptor, _resolve, ready)
    try:
        await ready
    except asyncio.CancelledError:
        pending.result()  # the write is under way: let it land, so the store is free for the next one
        raise
    finally:
        loop.remove_reader(descriptor)
        os.set_blocking(descriptor, True)  # uvloop made it non-blocking; the pipe's reader expects blocking


def _resolve(ready: "asyncio.Future[None]") -> None:
    if not ready.done():
        ready.set_result(None)
