"""The replay service: stored failures re-judged against a target version, with lineage both ways."""

import sqlite3
import threading

import pytest

from replay_support import T0, sent_to_v1, v2_shaped
from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core.classes import class_id_of
from sigma_aetl.core.envelope import Envelope, Truncation
from sigma_aetl.errors import ReplayRefused
from sigma_aetl.ingest.pipeline import Pipeline
from sigma_aetl.ingest.replay import Replayer, ReplayRequest, ReplayStopped, target_of
from sigma_aetl.stores.base import FailureQuery, ReplayRun
from sigma_aetl.stores.sqlite.store import SqliteStore

TO_V2 = ReplayRequest(to="shipment@2", contract="shipment", version=1, allow_draft=True)


def replay(
    registry: Registry, store: SqliteStore, request: ReplayRequest = TO_V2, *, batch_size: int = 500
) -> ReplayRun:
    """Run ``request`` to its end over ``store``."""
    target = target_of(registry, request.to, allow_draft=request.allow_draft)
    replayer = Replayer(store, target, batch_size=batch_size)
    return replayer.run(replayer.start(request), keep=not request.dry_run)


def documents(store: SqliteStore, table: str) -> list[bytes]:
    """Every stored document of ``table``, as bytes, in id order."""
    with sqlite3.connect(store.path) as conn:
        key = "record_id" if table == "records" else "failure_id"
        return [row[0] for row in conn.execute(f"SELECT doc FROM {table} ORDER BY {key}")]


def test_failures_that_pass_the_target_become_its_records_with_lineage(
    registry: Registry, pipeline: Pipeline, sqlite_store: SqliteStore
) -> None:
    """v2-shaped events refused by shipment@1 are replayed into shipment@2 records, each with lineage to
    its failure, and each failure gets a resolution naming the record; the failures stay as they were."""
    failure_ids = sent_to_v1(pipeline, [v2_shaped(n) for n in range(5)])
    before = documents(sqlite_store, "failures")
    done = replay(registry, sqlite_store)
    assert done.state == "done"
    assert (done.summary.selected, done.summary.replayed, done.summary.still_failing) == (5, 5, 0)
    assert sqlite_store.stats().accepted_by_contract == {"shipment@2": 5}
    assert documents(sqlite_store, "failures") == before
    for failure_id in failure_ids:
        [resolution] = sqlite_store.resolutions(failure_id)
        assert resolution.replay_id == done.replay_id
        record = sqlite_store.get_record(resolution.record_id)
        assert record is not None
        assert (record.contract, record.version, record.received_at) == ("shipment", 2, T0)
        lineage = sqlite_store.lineage(record.record_id)
        assert lineage is not None
        assert (lineage.replayed_from, lineage.fingerprint) == (failure_id, done.target_fingerprint)


def test_the_same_replay_again_writes_nothing_new(
    registry: Registry, pipeline: Pipeline, sqlite_store: SqliteStore
) -> None:
    """Run twice, the second replay counts every record as a duplicate and stores nothing but its run."""
    sent_to_v1(pipeline, [v2_shaped(n) for n in range(4)])
    replay(registry, sqlite_store)
    records, failures = documents(sqlite_store, "records"), documents(sqlite_store, "failures")
    again = replay(registry, sqlite_store)
    assert (again.summary.replayed, again.summary.duplicates) == (0, 4)
    assert documents(sqlite_store, "records") == records
    assert documents(sqlite_store, "failures") == failures


def test_a_dry_run_writes_nothing_and_predicts_the_real_summary(
    registry: Registry, pipeline: Pipeline, sqlite_store: SqliteStore
) -> None:
    """A dry run stores no record, resolution or run, and its summary is the one the replay then has."""
    sent_to_v1(pipeline, [v2_shaped(n) for n in range(6)] + [b'{"shipment_id": ""}'])
    dry = replay(registry, sqlite_store, TO_V2.model_copy(update={"dry_run": True}), batch_size=2)
    assert sqlite_store.stats().accepted_total == 0
    assert sqlite_store.list_replays() == []
    real = replay(registry, sqlite_store, batch_size=2)
    assert dry.summary == real.summary
    assert (real.summary.replayed, real.summary.still_failing) == (6, 1)


def test_a_failure_failing_again_stays_and_its_new_decision_is_counted(
    registry: Registry, pipeline: Pipeline, sqlite_store: SqliteStore
) -> None:
    """A failure that fails the target too is left untouched, without resolution; the run notes the new
    decision's root cause and error count."""
    [failure_id] = sent_to_v1(pipeline, [b'{"shipment_id": "S", "weight_kg": 2000, "destination": "Cork"}'])
    done = replay(registry, sqlite_store)
    assert done.summary.still_failing == 1
    assert done.summary.still_failing_by_root_cause == {"missing_field": 1}
    assert done.summary.still_failing_errors == 2  # service_level missing, 2000 kg over the limit
    assert sqlite_store.resolutions(failure_id) == []
    assert sqlite_store.stats().accepted_total == 0


def test_an_identity_stored_with_other_content_is_a_conflict_stored_once(
    registry: Registry, pipeline: Pipeline, sqlite_store: SqliteStore
) -> None:
    """A replayed event whose shipment@2 identity is stored with other content becomes an identity_conflict
    failure of shipment@2, like any other event; the same replay again stores no second one."""
    sent_to_v1(pipeline, [v2_shaped(1)])
    pipeline.process([Envelope(v2_shaped(1, "Galway"), "shipment", "2", T0, {"kind": "test"})])
    done = replay(registry, sqlite_store)
    assert (done.summary.conflicts, done.summary.replayed) == (1, 0)
    stats = sqlite_store.stats()
    assert stats.failures_by_root_cause == {"identity_conflict": 1, "missing_field": 1}
    again = replay(registry, sqlite_store, TO_V2.model_copy(update={"contract": None, "version": None}))
    assert again.summary.conflicts == 1
    assert again.summary.selected == 1  # the replay's own conflict is never selected again
    assert sqlite_store.stats() == stats


def test_an_identical_record_stored_already_is_a_duplicate(
    registry: Registry, pipeline: Pipeline, sqlite_store: SqliteStore
) -> None:
    """A replayed event already stored as the same shipment@2 record is a duplicate: nothing written."""
    [failure_id] = sent_to_v1(pipeline, [v2_shaped(1)])
    pipeline.process([Envelope(v2_shaped(1), "shipment", "2", T0, {"kind": "test"})])
    done = replay(registry, sqlite_store)
    assert (done.summary.duplicates, done.summary.replayed) == (1, 0)
    assert sqlite_store.resolutions(failure_id) == []


def test_truncated_failures_are_not_replayable(
    registry: Registry, pipeline: Pipeline, sqlite_store: SqliteStore
) -> None:
    """A failure stored truncated (over the size limit) is counted not replayable and left as it is."""
    whole = v2_shaped(1)
    envelope = Envelope(
        whole[:10], "shipment", "1", T0, {"kind": "test"}, truncated=Truncation(len(whole), "x")
    )
    pipeline.process([envelope])
    done = replay(registry, sqlite_store)
    assert (done.summary.selected, done.summary.not_replayable, done.summary.replayed) == (1, 1, 0)


def test_a_class_filter_selects_only_that_class(
    registry: Registry, pipeline: Pipeline, sqlite_store: SqliteStore
) -> None:
    """--class picks the failures of one class, computed from each failure record."""
    sent_to_v1(pipeline, [v2_shaped(1), b'{"shipment_id": "S", "weight_kg": "x", "destination": "C"}'])
    stored = sqlite_store.query_failures(FailureQuery(contract="shipment")).items
    wanted = next(f for f in stored if b"service_level" in f.raw.to_bytes())
    done = replay(registry, sqlite_store, TO_V2.model_copy(update={"class_id": class_id_of(wanted)}))
    assert (done.total, done.summary.selected, done.summary.replayed) == (2, 1, 1)


def test_the_target_must_exist_and_be_released_unless_drafts_are_allowed(registry: Registry) -> None:
    """An unknown target, or a draft without allow_draft, is refused with a message saying what to do."""
    with pytest.raises(ReplayRefused, match="no version '9'"):
        target_of(registry, "shipment@9", allow_draft=True)
    with pytest.raises(ReplayRefused, match="not NAME@VERSION"):
        target_of(registry, "shipment", allow_draft=True)
    with pytest.raises(ReplayRefused, match=r"is a draft.*--allow-draft"):
        target_of(registry, "shipment@2", allow_draft=False)
    assert target_of(registry, "shipment@1", allow_draft=False).ref == "shipment@1"


def test_two_replays_at_once_duplicate_nothing(
    registry: Registry, pipeline: Pipeline, sqlite_store: SqliteStore
) -> None:
    """Two replays of the same failures running at once store each record once and resolve each failure
    once; between them every failure is replayed exactly once."""
    failure_ids = sent_to_v1(pipeline, [v2_shaped(n) for n in range(300)])
    runs: list[ReplayRun] = []
    threads = [threading.Thread(target=lambda: runs.append(replay(registry, sqlite_store, batch_size=50)))]
    threads.append(
        threading.Thread(target=lambda: runs.append(replay(registry, sqlite_store, batch_size=50)))
    )
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert sum(run.summary.replayed for run in runs) == 300
    assert sum(run.summary.duplicates for run in runs) == 300
    assert sqlite_store.stats().accepted_total == 300
    assert all(len(sqlite_store.resolutions(failure_id)) == 1 for failure_id in failure_ids)


def test_a_stopped_replay_is_stored_failed_and_the_same_replay_finishes_it(
    registry: Registry, pipeline: Pipeline, sqlite_store: SqliteStore
) -> None:
    """A replay stopped between batches is stored failed, saying so; run again, it writes the rest."""
    sent_to_v1(pipeline, [v2_shaped(n) for n in range(10)])
    target = target_of(registry, "shipment@2", allow_draft=True)
    replayer = Replayer(sqlite_store, target, batch_size=4)
    calls = iter([False, True])
    with pytest.raises(ReplayStopped):
        replayer.run(replayer.start(TO_V2), stop=lambda: next(calls))
    [stopped] = sqlite_store.list_replays()
    assert (stopped.state, stopped.summary.replayed) == ("failed", 4)
    assert stopped.error is not None
    again = replay(registry, sqlite_store)
    assert (again.summary.replayed, again.summary.duplicates) == (6, 4)
