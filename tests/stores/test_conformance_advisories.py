"""The store conformance suite, advisories: every store keeps the advisory queue and advisories alike."""

import threading
from datetime import UTC, datetime, timedelta

from sigma_aetl.core.advisories import Advice, Advisory, AdvisoryTarget
from sigma_aetl.stores import Store, open_store
from sigma_aetl.stores.base import FailureQuery
from stores.conftest import FailureFactory

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
TERM = timedelta(minutes=5)
ADVICE = Advice(
    summary="weight is negative",
    probable_cause="a sign bug",
    producer_fix="send kg",
    contract_change="none",
    confidence=0.5,
)


def target(n: int, kind: str = "class") -> AdvisoryTarget:
    """The n-th target of ``kind``."""
    return AdvisoryTarget(kind="class" if kind == "class" else "failure", id=f"cls_{n:032d}")


def advisory(of: AdvisoryTarget, *, ok: bool = True, at: datetime = T0, attempts: int = 1) -> Advisory:
    """An advisory on ``of``: an answer, or an error."""
    return Advisory(
        target=of,
        status="ok" if ok else "error",
        advice=ADVICE if ok else None,
        error=None if ok else "timed out",
        model="qwen2.5:7b",
        prompt_version="advisor-1",
        sent_sha256="0" * 64,
        attempts=attempts,
        created_at=at,
    )


def test_enqueueing_is_idempotent_one_job_per_target(store: Store) -> None:
    """A target enqueued twice has one job, and the second enqueue reports nothing added."""
    assert store.enqueue_advisories([target(1), target(2)], T0) == 2
    assert store.enqueue_advisories([target(2), target(3)], T0 + TERM) == 1
    assert store.advisory_queue() == {"queued": 3, "leased": 0, "done": 0, "failed": 0}
    job = store.get_advisory_job(target(2))
    assert job is not None
    assert (job.state, job.attempts, job.created_at, job.next_attempt_at) == ("queued", 0, T0, T0)
    assert store.get_advisory_job(target(9)) is None


def test_a_class_and_a_failure_with_the_same_id_are_two_targets(store: Store) -> None:
    """The target kind is part of a job's identity."""
    same = "cls_" + "0" * 32
    both = [AdvisoryTarget(kind="class", id=same), AdvisoryTarget(kind="failure", id=same)]
    assert store.enqueue_advisories(both, T0) == 2


def test_a_lease_takes_due_jobs_earliest_first_and_only_once(store: Store) -> None:
    """Leasing hands out due jobs, earliest first; a leased job is not leased again while its lease runs."""
    store.enqueue_advisories([target(2)], T0 + timedelta(seconds=2))
    store.enqueue_advisories([target(1)], T0 + timedelta(seconds=1))
    store.enqueue_advisories([target(3)], T0 + timedelta(hours=1))
    leased = store.lease_advisory_jobs("a", T0 + timedelta(seconds=5), TERM, 10)
    assert [job.target for job in leased] == [target(1), target(2)]
    assert all(job.state == "leased" and job.lease_owner == "a" for job in leased)
    assert store.lease_advisory_jobs("b", T0 + timedelta(seconds=6), TERM, 10) == []
    assert store.advisory_queue()["leased"] == 2


def test_an_expired_lease_is_taken_by_another_and_the_first_holder_can_no_longer_close_it(
    store: Store,
) -> None:
    """Once a lease has run out another advisor leases the job, and the first holder's answer is refused."""
    store.enqueue_advisories([target(1)], T0)
    (first,) = store.lease_advisory_jobs("a", T0, TERM, 1)
    (second,) = store.lease_advisory_jobs("b", T0 + TERM, TERM, 1)
    assert second.lease_owner == "b"
    assert not store.finish_advisory_job("a", advisory(target(1)))
    assert not store.retry_advisory_job("a", first, "late", T0)
    assert store.list_advisories(target(1)) == []
    assert store.finish_advisory_job("b", advisory(target(1)))
    assert store.list_advisories(target(1)) == [advisory(target(1))]


def test_a_retry_counts_the_attempt_and_waits_for_its_time(store: Store) -> None:
    """A retried job is queued again with one attempt more and its error, and is not due before its time."""
    store.enqueue_advisories([target(1)], T0)
    (job,) = store.lease_advisory_jobs("a", T0, TERM, 1)
    later = T0 + timedelta(seconds=30)
    assert store.retry_advisory_job("a", job, "HTTP 500", later)
    again = store.get_advisory_job(target(1))
    assert again is not None
    assert (again.state, again.attempts, again.last_error, again.lease_owner) == (
        "queued",
        1,
        "HTTP 500",
        None,
    )
    assert store.lease_advisory_jobs("a", later - timedelta(seconds=1), TERM, 1) == []
    assert [job.attempts for job in store.lease_advisory_jobs("a", later, TERM, 1)] == [1]


def test_finishing_stores_the_advisory_and_closes_the_job_for_good(store: Store) -> None:
    """An ok advisory closes its job done, an error one failed; neither is leased again; both are listed."""
    store.enqueue_advisories([target(1), target(2)], T0)
    store.lease_advisory_jobs("a", T0, TERM, 2)
    assert store.finish_advisory_job("a", advisory(target(1)))
    failed = advisory(target(2), ok=False, at=T0 + timedelta(seconds=1), attempts=3)
    assert store.finish_advisory_job("a", failed)
    assert store.advisory_queue() == {"queued": 0, "leased": 0, "done": 1, "failed": 1}
    assert store.lease_advisory_jobs("b", T0 + timedelta(days=1), TERM, 10) == []
    job = store.get_advisory_job(target(2))
    assert job is not None
    assert (job.state, job.attempts, job.last_error) == ("failed", 3, "timed out")
    assert store.list_advisories(target(2)) == [failed]
    assert store.recent_advisory_errors(10) == [failed]


def test_advisories_leave_the_failures_untouched(store: Store, make_failure: FailureFactory) -> None:
    """Storing advisories about a failure changes nothing in the failure records."""
    failure = make_failure("k1")
    store.write([], [failure])
    before = store.query_failures(FailureQuery())
    about = AdvisoryTarget(kind="failure", id=failure.failure_id)
    store.enqueue_advisories([about], T0)
    store.lease_advisory_jobs("a", T0, TERM, 1)
    store.finish_advisory_job("a", advisory(about))
    assert store.query_failures(FailureQuery()) == before
    assert store.stats().failures_total == 1


def test_concurrent_leases_from_two_handles_never_share_a_job(store_url: str) -> None:
    """Two store handles leasing at once, as two advisor processes do, get disjoint sets of jobs."""
    setup = open_store(store_url)
    setup.enqueue_advisories([target(n) for n in range(40)], T0)
    handles = [open_store(store_url) for _ in range(2)]
    got: dict[str, list[str]] = {"a": [], "b": []}

    def drain(owner: str, handle: Store) -> None:
        while leased := handle.lease_advisory_jobs(owner, T0, TERM, 3):
            got[owner] += [job.target.id for job in leased]

    threads = [threading.Thread(target=drain, args=(owner, h)) for owner, h in zip(got, handles, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for handle in [setup, *handles]:
        handle.close()
    assert not set(got["a"]) & set(got["b"])
    assert sorted(got["a"] + got["b"]) == sorted(target(n).id for n in range(40))


def test_a_store_whose_advisor_never_ran_reads_as_empty(store: Store) -> None:
    """Before any advisory write, the queue is empty and no target has a job or an advisory."""
    assert store.advisory_queue() == {"queued": 0, "leased": 0, "done": 0, "failed": 0}
    assert store.list_advisories(target(1)) == []
    assert store.recent_advisory_errors(5) == []
    assert store.get_advisory_job(target(1)) is None
