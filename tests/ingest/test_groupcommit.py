"""Group commit: concurrent submissions share one transaction and each gets its own outcomes."""

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
import uvloop

from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core.envelope import Envelope
from sigma_aetl.core.records import AcceptedRecord, FailureRecord
from sigma_aetl.core.taxonomy import RootCause
from sigma_aetl.errors import StoreUnavailable
from sigma_aetl.ingest import groupcommit
from sigma_aetl.ingest.groupcommit import GroupCommitter
from sigma_aetl.ingest.outcome import Outcome
from sigma_aetl.ingest.pipeline import Pipeline
from sigma_aetl.stores.base import PendingWrite, StagedWrite, WriteReport
from sigma_aetl.stores.sqlite.store import SqliteStore
from sigma_aetl.testing import INVALID_SHIPMENT, VALID_SHIPMENT

T = TypeVar("T")
Runner = Callable[[Coroutine[Any, Any, T]], T]


def shipment(n: int) -> Envelope:
    """A valid shipment envelope with its own id."""
    raw = VALID_SHIPMENT.replace(b"SHIP-TRUE-003", f"SHIP-{n}".encode())
    return Envelope(raw=raw, contract="shipment", version="1", received_at=datetime.now(UTC))


class GatedStore(SqliteStore):
    """A real SQLite store (inline writer) whose first write waits until the test opens the gate."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, writer="inline")
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.writes: list[int] = []

    def submit(self, write: StagedWrite) -> PendingWrite:
        """Wait at the gate, then write."""
        self.entered.set()
        self.gate.wait(timeout=10)
        self.writes.append(len(write.records) + len(write.failures))
        return super().submit(write)


def run_closing(
    store: SqliteStore,
    scenario: Coroutine[Any, Any, T],
    run: Runner[T] = asyncio.run,
) -> T:
    """Run ``scenario`` on a new event loop, then close ``store`` whatever happened."""
    try:
        return run(scenario)
    finally:
        store.close()


async def _until(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Let the event loop run until ``condition()`` holds (another thread or process makes it true)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        await asyncio.sleep(0.01)


def test_a_blocking_store_writes_in_the_thread_and_the_loop_queues_meanwhile(
    tmp_path: Path, registry: Registry
) -> None:
    """While a blocking write is in flight the loop runs; what it queues meanwhile is the next group."""
    store = GatedStore(tmp_path / "g.db")
    committer = GroupCommitter(Pipeline(registry, store))

    async def scenario() -> list[list[Outcome]]:
        first = asyncio.create_task(committer.store([shipment(0)]))
        await _until(store.entered.is_set, "the write is at the gate")  # the loop runs meanwhile
        waiting = [asyncio.create_task(committer.store([shipment(n)])) for n in range(1, 11)]
        await asyncio.sleep(0)  # one turn of the loop: each new task queues its submission, then awaits
        store.gate.set()
        outcomes = await asyncio.gather(first, *waiting)
        await committer.aclose()
        return outcomes

    outcomes = asyncio.run(scenario())
    assert store.writes == [1, 10]
    assert committer.groups == 2
    assert all(len(result) == 1 and result[0].status == "PASSED" for result in outcomes)
    assert len({result[0].record_id for result in outcomes}) == 11


RUNNERS: dict[str, Runner[Any]] = {"asyncio": asyncio.run, "uvloop": uvloop.run}


@pytest.mark.parametrize("loop", RUNNERS)
def test_the_writer_process_is_awaited_on_the_loop(tmp_path: Path, registry: Registry, loop: str) -> None:
    """With the writer process, requests queued while it waits for the database share the next group;
    a conflict's extra write afterwards reads its answer normally (uvloop leaves the pipe non-blocking)."""
    path = tmp_path / "w.db"
    store = SqliteStore.from_url(f"sqlite:///{path}")
    assert store.writes_in_background
    committer = GroupCommitter(Pipeline(registry, store))
    blocker = sqlite3.connect(path, isolation_level=None)

    async def scenario() -> list[list[Outcome]]:
        blocker.execute("BEGIN IMMEDIATE")  # the writer's transaction waits (busy timeout) until we commit
        first = asyncio.create_task(committer.store([shipment(0)]))
        writer = store._process  # the test looks inside to know when the write has reached the writer
        assert writer is not None
        await _until(lambda: writer.in_flight, "the first group is sent to the writer")
        waiting = [asyncio.create_task(committer.store([shipment(n)])) for n in range(1, 11)]
        await asyncio.sleep(0)  # one turn of the loop: each new task queues its submission, then awaits
        assert not first.done()  # the writer holds the first group until the blocker commits
        blocker.execute("COMMIT")
        outcomes = await asyncio.gather(first, *waiting)
        changed = shipment(0).raw.replace(b"15.2", b"15.3")
        outcomes.append(await committer.store([replace(shipment(0), raw=changed)]))
        await committer.aclose()
        return outcomes

    try:
        outcomes = run_closing(store, scenario(), RUNNERS[loop])
    finally:
        blocker.close()
    *stored, [conflict] = outcomes
    assert committer.groups == 3
    assert all(len(result) == 1 and result[0].status == "PASSED" for result in stored)
    assert conflict.root_cause == RootCause.IDENTITY_CONFLICT


@pytest.mark.parametrize("writer", ["process", "inline"])
def test_each_submission_gets_its_own_outcomes_in_order(
    tmp_path: Path, registry: Registry, writer: str
) -> None:
    """Outcomes are handed back per submission, in the order of its envelopes, whichever the writer."""
    store = SqliteStore.from_url(f"sqlite:///{tmp_path}/o.db?writer={writer}")
    committer = GroupCommitter(Pipeline(registry, store))
    bad = Envelope(raw=INVALID_SHIPMENT, contract="shipment", version="1", received_at=datetime.now(UTC))

    async def scenario() -> tuple[list[Outcome], ...]:
        mixed, same = await asyncio.gather(
            committer.store([shipment(1), bad, shipment(2)]), committer.store([shipment(1)])
        )
        again = await committer.store([shipment(2)])
        empty = await committer.store([])
        await committer.aclose()
        return mixed, same, again, empty

    mixed, same, again, empty = run_closing(store, scenario())
    assert [o.status for o in mixed] == ["PASSED", "FAILED", "PASSED"]
    assert same[0].duplicate is True  # the second copy in one group is a duplicate of the first
    assert again[0].duplicate is True
    assert empty == []


def test_a_large_group_goes_to_the_thread(
    tmp_path: Path, registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A group larger than ON_LOOP_EVENTS is decided and written off the event loop, with the same result."""
    monkeypatch.setattr(groupcommit, "ON_LOOP_EVENTS", 3)
    store = SqliteStore.from_url(f"sqlite:///{tmp_path}/l.db")
    committer = GroupCommitter(Pipeline(registry, store))
    threads: set[str] = set()
    process = committer._pipeline.process

    def spy(envelopes: Sequence[Envelope]) -> list[Outcome]:
        threads.add(threading.current_thread().name)
        return process(envelopes)

    monkeypatch.setattr(committer._pipeline, "process", spy)

    async def scenario() -> list[Outcome]:
        outcomes = await committer.store([shipment(n) for n in range(10)])
        await committer.aclose()
        return outcomes

    outcomes = run_closing(store, scenario())
    assert [o.status for o in outcomes] == ["PASSED"] * 10
    assert len(threads) == 1
    assert threads.pop().startswith("group-commit")


class DownStore(SqliteStore):
    """A store whose writes fail as an unreachable disk would."""

    def submit(self, write: StagedWrite) -> PendingWrite:
        """Fail."""
        raise StoreUnavailable("disk gone")


def test_a_store_failure_reaches_every_waiting_submission(tmp_path: Path, registry: Registry) -> None:
    """When the store fails, every submission in the group gets the error; none hangs."""
    committer = GroupCommitter(Pipeline(registry, DownStore(tmp_path / "d.db", writer="inline")))

    async def scenario() -> list[BaseException | list[Outcome]]:
        results = await asyncio.gather(
            *(committer.store([shipment(n)]) for n in range(5)), return_exceptions=True
        )
        await committer.aclose()
        return results

    results = asyncio.run(scenario())
    assert all(isinstance(result, StoreUnavailable) for result in results)


def test_close_stores_what_is_queued(tmp_path: Path, registry: Registry) -> None:
    """Closing the committer first stores every queued submission."""
    store = GatedStore(tmp_path / "c.db")
    committer = GroupCommitter(Pipeline(registry, store))

    async def scenario() -> list[asyncio.Task[list[Outcome]]]:
        tasks = [asyncio.create_task(committer.store([shipment(n)])) for n in range(20)]
        await asyncio.sleep(0)  # one turn of the loop: every task queues its submission before the close
        store.gate.set()
        await committer.aclose()
        return tasks

    tasks = asyncio.run(scenario())
    assert all(task.done() and task.result()[0].status == "PASSED" for task in tasks)
    assert sum(store.writes) == 20


def test_a_cancelled_committer_task_is_replaced(tmp_path: Path, registry: Registry) -> None:
    """If the committer's task is cancelled, the next submission starts a new one instead of hanging."""
    store = SqliteStore.from_url(f"sqlite:///{tmp_path}/t.db")
    committer = GroupCommitter(Pipeline(registry, store))

    async def scenario() -> list[Outcome]:
        await committer.store([shipment(1)])
        task = committer._task
        assert task is not None
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        outcomes = await asyncio.wait_for(committer.store([shipment(2)]), timeout=10)
        await committer.aclose()
        return outcomes

    outcomes = run_closing(store, scenario())
    assert outcomes[0].status == "PASSED"


def test_a_submission_after_close_is_refused_at_once(tmp_path: Path, registry: Registry) -> None:
    """Once closed, the committer answers StoreUnavailable immediately instead of waiting forever."""
    store = SqliteStore(tmp_path / "g.db", writer="inline")
    committer = GroupCommitter(Pipeline(registry, store, transaction_size=1000))

    async def scenario() -> tuple[list[Outcome], type[BaseException] | None, type[BaseException] | None]:
        stored = await committer.store([shipment(1)])
        await committer.aclose()
        refused: list[type[BaseException] | None] = []
        for attempt in (committer.store([shipment(2)]), committer.store([])):
            try:
                await asyncio.wait_for(attempt, timeout=5)
                refused.append(None)
            except StoreUnavailable as exc:
                refused.append(type(exc))
        return stored, refused[0], refused[1]

    stored, late, empty = run_closing(store, scenario())
    assert stored[0].status == "PASSED"
    assert (late, empty) == (StoreUnavailable, StoreUnavailable)


def test_an_oversized_failure_is_written_in_arrival_order_between_groups(
    tmp_path: Path, registry: Registry
) -> None:
    """The failure of an oversized body goes through the committer, after the group queued before it."""
    store = SqliteStore(tmp_path / "g.db", writer="inline")
    pipeline = Pipeline(registry, store, transaction_size=1000)
    committer = GroupCommitter(pipeline)
    order: list[str] = []
    write = store.write

    def spy(records: Sequence[AcceptedRecord], failures: Sequence[FailureRecord]) -> WriteReport:
        order.append(f"{len(records)} records, {len(failures)} failures")
        return write(records, failures)

    store.write = spy  # type: ignore[method-assign]
    big = replace(shipment(9), raw=b'{"shipment_id": "X", ')

    async def scenario() -> Outcome:
        before = asyncio.create_task(committer.store([shipment(1), shipment(2)]))
        await asyncio.sleep(0)  # queue the group first, as an earlier request would
        outcome = await committer.store_oversized(big, 20_000_000, 16_777_216)
        await before
        await committer.aclose()
        return outcome

    outcome = run_closing(store, scenario())
    assert outcome.status == "FAILED"
    assert outcome.root_cause == RootCause.PAYLOAD_TOO_LARGE
    assert order[-1] == "0 records, 1 failures"
    assert store.get_failure(outcome.failure_id or "") is not None
    assert committer.groups == 2


@pytest.mark.parametrize("writer", ["process", "inline"])
def test_identical_bare_failures_in_one_group_count_each(
    tmp_path: Path, registry: Registry, writer: str
) -> None:
    """Concurrent requests carrying the same bad bytes without a key share one transaction and are counted
    one arrival each, whichever the writer; an oversized body uploaded twice counts twice."""
    store = SqliteStore.from_url(f"sqlite:///{tmp_path}/c.db?writer={writer}")
    committer = GroupCommitter(Pipeline(registry, store))
    bad = Envelope(raw=INVALID_SHIPMENT, contract="shipment", version="1", received_at=datetime.now(UTC))
    big = replace(bad, raw=b'{"shipment_id": "X", ')

    async def scenario() -> list[Outcome]:
        groups = await asyncio.gather(*(committer.store([bad]) for _ in range(5)))
        oversized = [await committer.store_oversized(big, 20_000_000, 16_777_216) for _ in range(2)]
        await committer.aclose()
        return [outcome for group in groups for outcome in group] + oversized

    outcomes = run_closing(store, scenario())
    reopened = SqliteStore(tmp_path / "c.db", writer="none")
    try:
        counts: dict[RootCause, int] = {}
        for failure_id in {o.failure_id for o in outcomes}:
            stored = reopened.get_failure(failure_id or "")
            assert stored is not None
            assert stored.occurrences is not None
            counts[stored.root_cause] = stored.occurrences.count
    finally:
        reopened.close()
    assert counts == {RootCause.MISSING_FIELD: 5, RootCause.PAYLOAD_TOO_LARGE: 2}
    assert committer.groups == 3  # the five requests in one group, then each oversized body alone
