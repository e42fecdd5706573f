"""The advisor: enqueue what has no advisory yet, then drain the queue through the model.

One pass (:meth:`Advisor.drain`) leases as many due jobs as the breaker lets calls start, at most
``concurrency`` in flight (an asyncio semaphore bounds the calls), and as each finishes leases more. A job
ends in one of three ways: an answer (an advisory with status ok), a failed call with attempts left
(queued again after ``backoff * 2**(attempts-1)`` seconds), or a failed call that was the last attempt
(an advisory with status error: never retried forever). Every store call runs in a worker thread, so
the event loop only waits on the model.

The advisor writes advisories and its queue, nothing else: no decision, record or failure depends on it.
"""

import asyncio
import contextlib
import os
import socket
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from sigma_aetl import logs
from sigma_aetl.advisor.breaker import BreakerState, CircuitBreaker
from sigma_aetl.advisor.client import CallFailed, Model
from sigma_aetl.advisor.prompt import PROMPT_VERSION, chat_request, sent_digest
from sigma_aetl.advisor.subjects import TargetGone, subject_of
from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core.advisories import Advice, Advisory, AdvisoryJob, AdvisoryTarget, backoff
from sigma_aetl.errors import StoreError
from sigma_aetl.settings import Settings
from sigma_aetl.stores import Store
from sigma_aetl.stores.base import MAX_PAGE, ClassQuery, FailureQuery

_log = logs.get("advisor")
Outcome = Literal["ok", "error", "retried", "lost"]
"""What became of one leased job: advised, an advisory error, queued again, or its lease lost meanwhile."""
FULL_SYNC = timedelta(minutes=10)
"""How often the sync step reads the whole scope rather than only what arrived since the last sync."""
SYNC_OVERLAP = timedelta(seconds=5)
"""How far before the last sync an incremental one reads: arrivals written after their ``received_at``."""
LEASE_MARGIN = timedelta(seconds=60)
"""A lease lasts the call's timeout and this: time to read the target and store the answer."""


def utc_now() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


def owner_name() -> str:
    """A lease holder's name, unique to this advisor: host, process and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class Summary:
    """What a run did."""

    enqueued: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    breaker: BreakerState = "closed"
    queue: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


class Advisor:
    """Drains ``store``'s advisory queue through ``model``, configured by ``settings`` (``advisor_*``)."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        registry: Registry,
        model: Model,
        *,
        owner: str | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.settings = settings
        self.store = store
        self.registry = registry
        self.model = model
        self.owner = owner or owner_name()
        self.clock = clock
        self.breaker = CircuitBreaker(settings.advisor_breaker_threshold, settings.advisor_breaker_cooldown)
        self._calls = asyncio.Semaphore(settings.advisor_concurrency)
        self._term = timedelta(seconds=settings.advisor_timeout) + LEASE_MARGIN
        self._retries: list[datetime] = []
        self._classes_missing = False
        self._synced_at: datetime | None = None
        self._full_at: datetime | None = None

    # -- the queue -----------------------------------------------------------------------------------

    async def sync(self) -> int:
        """Enqueue every target of the scope (every class, or every failure) without a job; how many.

        The first sync of an advisor, and one every ``FULL_SYNC`` after, reads the whole scope; the others
        only what arrived (or was seen again) since the last one began, less ``SYNC_OVERLAP``: cheap enough
        to run every poll, and the full syncs catch anything an incremental one could miss."""
        return await asyncio.to_thread(self._sync)

    def _sync(self) -> int:
        started = self.clock()
        full = self._full_at is None or started - self._full_at >= FULL_SYNC
        since = None if full or self._synced_at is None else self._synced_at - SYNC_OVERLAP
        added = 0
        offset: int | None = 0
        while offset is not None:
            targets, offset = self._page(offset, since)
            added += self.store.enqueue_advisories(targets, self.clock()) if targets else 0
        self._synced_at = started
        if full:
            self._full_at = started
        return added

    def _page(self, offset: int, since: datetime | None) -> tuple[list[AdvisoryTarget], int | None]:
        if self.settings.advisor_scope == "failure":
            failures = self.store.query_failures(FailureQuery(limit=MAX_PAGE, offset=offset, since=since))
            found = [AdvisoryTarget(kind="failure", id=item.failure_id) for item in failures.items]
            return found, failures.next_offset
        try:
            classes = self.store.query_classes(ClassQuery(limit=MAX_PAGE, offset=offset, since=since))
        except NotImplementedError:  # a store that does not keep failure classes: requests only
            if not self._classes_missing:
                _log.warning("advisor_no_classes", detail="this store keeps no failure classes")
                self._classes_missing = True
            return [], None
        return [AdvisoryTarget(kind="class", id=item.class_id) for item in classes.items], classes.next_offset

    # -- running ---------------------------------------------------------------------------------------

    async def run_once(self) -> Summary:
        """Sync, then drain until nothing is due: retries are waited for; an open breaker ends the run."""
        summary = Summary(enqueued=await self.sync())
        while True:
            await self.drain(summary)
            wait = self._retry_wait()
            if self.breaker.state == "open" or wait is None:
                break
            await asyncio.sleep(wait)
        if self.breaker.state == "open":
            summary.notes.append(f"the breaker is open: calls stopped for {self.breaker.reopens_in():.0f}s")
        summary.breaker = self.breaker.state
        summary.queue = await asyncio.to_thread(self.store.advisory_queue)
        return summary

    async def run(self, stop: asyncio.Event) -> None:
        """Sync and drain every ``advisor_poll_interval`` seconds until ``stop`` is set; a store error (or
        any other) is logged and tried again on the next round (a job it held is taken again once its lease
        runs out)."""
        summary = Summary()
        while not stop.is_set():
            try:
                if self._sync_due():
                    summary.enqueued += await self.sync()
                await self.drain(summary, stop)
            except StoreError as exc:
                _log.warning("advisor_store_error", error=str(exc))
            except Exception as exc:  # noqa: BLE001 - a bug in one round must not stop the advisor for good
                _log.error("advisor_round_failed", error=str(exc), kind=type(exc).__name__)
            pause = self.settings.advisor_poll_interval
            if self.breaker.state == "open":
                pause = min(pause, max(self.breaker.reopens_in(), 0.01))
            wait = self._retry_wait()
            if wait is not None:
                pause = min(pause, wait)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)

    def _sync_due(self) -> bool:
        """Whether ``advisor_poll_interval`` has passed since the last sync began (waking early for a
        retry or the breaker drains the queue without reading the scope again) and the breaker is closed.

        With the breaker open or half-open no call can take the jobs a sync would add, so the sync waits:
        reading the scope every poll beside a failing model was the advisor's one cost to ingestion (on a
        quiet machine, a failing model cost serve's ingest 5-10 %; docs/benchmarks.md). Nothing is missed:
        the first sync after the breaker closes reads from where the last one began."""
        if self._synced_at is None:
            return True
        if self.breaker.state != "closed":
            return False
        return (self.clock() - self._synced_at).total_seconds() >= self.settings.advisor_poll_interval

    async def drain(self, summary: Summary, stop: asyncio.Event | None = None) -> None:
        """Lease and work due jobs, up to the breaker's room, until none is due or in flight."""
        in_flight: set[asyncio.Task[Outcome]] = set()
        while True:
            room = self.breaker.room(self.settings.advisor_concurrency, len(in_flight))
            if room and not (stop is not None and stop.is_set()):
                for job in await self._lease(room):
                    self.breaker.started()
                    in_flight.add(asyncio.create_task(self._work(job)))
            if not in_flight:
                return
            done, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                summary.outcomes[task.result()] += 1

    async def _lease(self, room: int) -> list[AdvisoryJob]:
        lease = self.store.lease_advisory_jobs
        return await asyncio.to_thread(lease, self.owner, self.clock(), self._term, room)

    def _retry_wait(self) -> float | None:
        """Seconds until the earliest retry this advisor queued is due (0: one is due now: drain again);
        None when none is pending. Retries due by now are forgotten: the next drain leases them."""
        if not self._retries:
            return None
        now = self.clock()
        due_now = any(at <= now for at in self._retries)
        self._retries = [at for at in self._retries if at > now]
        if due_now or not self._retries:
            return 0.0
        return (min(self._retries) - now).total_seconds()

    # -- one job -----------------------------------------------------------------------------------------

    async def _work(self, job: AdvisoryJob) -> Outcome:
        try:
            subject = await asyncio.to_thread(subject_of, self.store, self.registry, job.target)
        except TargetGone as exc:
            return await self._finish(job, None, str(exc), "", job.attempts)
        request = chat_request(subject, self.settings.advisor_model, self.settings.advisor_max_value_chars)
        digest = sent_digest(request)
        async with self._calls:
            try:
                advice = await self.model.ask(request)
            except CallFailed as exc:
                self._breaker_moves(self.breaker.failed, exc.reason)
                return await self._failed(job, exc.reason, digest)
        self._breaker_moves(self.breaker.succeeded, None)
        return await self._finish(job, advice, None, digest, job.attempts + 1)

    def _breaker_moves(self, outcome: Callable[[], None], reason: str | None) -> None:
        """Tell the breaker a call's outcome, and log when that opens or closes it."""
        before = self.breaker.state
        outcome()
        after = self.breaker.state
        if after == "open" and before != "open":
            cooldown = self.settings.advisor_breaker_cooldown
            _log.warning(
                "advisor_breaker_opened", failures=self.breaker.failures, cooldown=cooldown, error=reason
            )
        elif after == "closed" and before != "closed":
            _log.info("advisor_breaker_closed")

    async def _failed(self, job: AdvisoryJob, reason: str, digest: str) -> Outcome:
        attempts = job.attempts + 1
        if attempts >= self.settings.advisor_max_attempts:
            return await self._finish(job, None, reason, digest, attempts)
        due = self.clock() + backoff(attempts, self.settings.advisor_backoff)
        retried = await asyncio.to_thread(self.store.retry_advisory_job, self.owner, job, reason, due)
        if retried:
            self._retries.append(due)
        return "retried" if retried else "lost"

    async def _finish(
        self, job: AdvisoryJob, advice: Advice | None, error: str | None, digest: str, attempts: int
    ) -> Outcome:
        advisory = Advisory(
            target=job.target,
            status="ok" if advice is not None else "error",
            advice=advice,
            error=error,
            model=self.settings.advisor_model,
            prompt_version=PROMPT_VERSION,
            sent_sha256=digest,
            attempts=attempts,
            created_at=self.clock(),
        )
        stored = await asyncio.to_thread(self.store.finish_advisory_job, self.owner, advisory)
        if not stored:
            return "lost"
        return "ok" if advice is not None else "error"
