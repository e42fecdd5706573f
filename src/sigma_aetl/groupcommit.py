"""Group commit: many concurrent requests share one store transaction.

Each request hands its envelopes to :meth:`GroupCommitter.submit` and waits on the returned future. One
writer thread takes everything queued so far (up to ``max_events``), runs it through the pipeline as one
batch — one transaction — and resolves each request's future with that request's outcomes. A request is
therefore answered only after its events are durably stored, and under load hundreds of requests pay for
one commit instead of one each.

The combined batch is processed in arrival order, so the pipeline's in-batch rules (a second copy is a
duplicate, a second content for an identity is a conflict) hold across requests exactly as across batches.
If the store fails, every request in the group gets the error, and nothing is claimed as stored.
"""

import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future

from sigma_aetl.core.envelope import Envelope
from sigma_aetl.pipeline import Outcome, Pipeline

_Job = tuple[Sequence[Envelope], "Future[list[Outcome]]"]
_STOP = None


class GroupCommitter:
    """A writer thread that stores queued requests' envelopes together."""

    def __init__(self, pipeline: Pipeline, *, max_events: int = 2000) -> None:
        self._pipeline = pipeline
        self._max_events = max_events
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="group-commit", daemon=True)
        self._thread.start()
        self.groups = 0
        """How many groups (transactions) have been written; for tests and metrics."""

    def submit(self, envelopes: Sequence[Envelope]) -> "Future[list[Outcome]]":
        """Queue ``envelopes``; the future resolves with their outcomes once they are stored."""
        future: Future[list[Outcome]] = Future()
        if not envelopes:
            future.set_result([])
        else:
            self._queue.put((envelopes, future))
        return future

    def close(self) -> None:
        """Store what is queued, then stop the writer thread."""
        self._queue.put(_STOP)
        self._thread.join()

    def _run(self) -> None:
        while (first := self._queue.get()) is not _STOP:
            jobs, stop = self._gather(first)
            self._write(jobs)
            if stop:
                return

    def _gather(self, first: _Job) -> tuple[list[_Job], bool]:
        jobs, size = [first], len(first[0])
        while size < self._max_events:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is _STOP:
                return jobs, True
            jobs.append(job)
            size += len(job[0])
        return jobs, False

    def _write(self, jobs: list[_Job]) -> None:
        envelopes = [envelope for batch, _ in jobs for envelope in batch]
        try:
            outcomes = self._pipeline.process(envelopes)
        except Exception as exc:  # every waiting request must learn of it; none may hang
            for _, future in jobs:
                future.set_exception(exc)
            return
        self.groups += 1
        start = 0
        for batch, future in jobs:
            future.set_result(outcomes[start : start + len(batch)])
            start += len(batch)
