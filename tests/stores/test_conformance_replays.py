"""The store conformance suite, replays: every store selects failures, writes replayed records with lineage
and resolutions, and keeps replay runs alike."""

import threading
from datetime import UTC, datetime, timedelta

from replay_support import replayed, sent_to_v1, v2_shaped
from sigma_aetl.contracts.registry import Registry
from sigma_aetl.ingest.pipeline import Pipeline
from sigma_aetl.ingest.replay import Replayer, ReplayRequest, target_of
from sigma_aetl.stores import Store
from sigma_aetl.stores.base import (
    ReplayRun,
    ReplaySelection,
    ReplaySummary,
)
from stores.conftest import RecordFactory

T0 = datetime(2024, 5, 1, 12, 0, 0, 123000, tzinfo=UTC)


def run(replay_id: str, started: datetime, state: str = "running", replayed: int = 0) -> ReplayRun:
    """A replay run into shipment@2."""
    return ReplayRun.model_validate(
        {
            "replay_id": replay_id,
            "target": "shipment@2",
            "target_fingerprint": "sha256:two",
            "selection": ReplaySelection(contract="shipment", version=1),
            "state": state,
            "total": 3,
            "progress": 3 if state == "done" else 0,
            "summary": ReplaySummary(selected=3, replayed=replayed),
            "started_at": started,
        }
    )


def test_replayed_records_are_stored_with_lineage_and_their_failures_resolved(
    store: Store, make_record: RecordFactory
) -> None:
    """A replayed record is stored as given, carries its lineage, and its failure gets one resolution."""
    record = make_record("SHIP-1", version=2)
    written = store.write_replayed([replayed(record, "fail_a")])
    assert written.new_records == {record.record_id}
    assert written.resolved == {"fail_a"}
    assert store.get_record(record.record_id) == record
    lineage = store.lineage(record.record_id)
    assert lineage is not None
    assert (lineage.replayed_from, lineage.replay_id) == ("fail_a", "rpl_1")
    [resolution] = store.resolutions("fail_a")
    assert (resolution.record_id, resolution.target, resolution.replay_id) == (
        record.record_id,
        "shipment@2",
        "rpl_1",
    )


def test_the_same_replay_again_writes_nothing_new(store: Store, make_record: RecordFactory) -> None:
    """Writing the same replayed record again (another run) finds it stored: same lineage, one resolution."""
    record = make_record("SHIP-1", version=2)
    store.write_replayed([replayed(record, "fail_a", "rpl_1")])
    again = store.write_replayed([replayed(record, "fail_a", "rpl_2")])
    assert again.new_records == set()
    assert again.existing_records == {record.record_id: record.content_hash}
    lineage = store.lineage(record.record_id)
    assert lineage is not None
    assert lineage.replay_id == "rpl_1"
    assert [r.replay_id for r in store.resolutions("fail_a")] == ["rpl_1"]
    assert store.stats().accepted_total == 1


def test_a_record_stored_before_the_replay_gets_no_lineage(store: Store, make_record: RecordFactory) -> None:
    """A record the gateway stored itself is found existing: no lineage, and the failure no resolution."""
    record = make_record("SHIP-1", version=2)
    store.write([record], [])
    written = store.write_replayed([replayed(record, "fail_a")])
    assert written.existing_records == {record.record_id: record.content_hash}
    assert store.lineage(record.record_id) is None
    assert store.resolutions("fail_a") == []
    assert store.get_record(record.record_id) == record


def test_two_failures_making_one_record_resolve_only_the_first(
    store: Store, make_record: RecordFactory
) -> None:
    """Two failures replayed into the same record id: one record, its lineage names the first, which alone
    is resolved (the second is a duplicate)."""
    record = make_record("SHIP-1", version=2)
    written = store.write_replayed([replayed(record, "fail_a"), replayed(record, "fail_b")])
    assert written.new_records == {record.record_id}
    assert written.resolved == {"fail_a"}
    assert store.resolutions("fail_b") == []


def test_concurrent_replays_store_each_record_and_resolution_once(
    store_url: str, make_record: RecordFactory
) -> None:
    """Two store handles replaying the same failures at once store each record once, one lineage each,
    and one resolution per failure."""
    from sigma_aetl.stores import open_store  # noqa: PLC0415 - one handle per thread, as replay jobs open

    records = [make_record(f"SHIP-{n}", version=2) for n in range(200)]
    handles = [open_store(store_url) for _ in range(2)]
    try:
        threads = [
            threading.Thread(
                target=lambda h=handle, n=n: h.write_replayed(
                    [replayed(r, f"fail_{i}", f"rpl_{n}") for i, r in enumerate(records)]
                )
            )
            for n, handle in enumerate(handles)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        reader = handles[0]
        assert reader.stats().accepted_total == 200
        assert all(len(reader.resolutions(f"fail_{i}")) == 1 for i in range(200))
        assert all(reader.lineage(r.record_id) is not None for r in records)
    finally:
        for handle in handles:
            handle.close()


def test_replay_runs_are_replaced_by_id_and_listed_latest_first(store: Store) -> None:
    """A run saved again replaces itself; runs list the latest started first; an unknown id is None."""
    store.save_replay(run("rpl_a", T0))
    store.save_replay(run("rpl_b", T0 + timedelta(minutes=1)))
    store.save_replay(run("rpl_a", T0, state="done", replayed=3))
    found = store.get_replay("rpl_a")
    assert found is not None
    assert (found.state, found.summary.replayed, found.selection.version) == ("done", 3, 1)
    assert [r.replay_id for r in store.list_replays()] == ["rpl_b", "rpl_a"]
    assert [r.replay_id for r in store.list_replays(limit=1, offset=1)] == ["rpl_a"]
    assert store.get_replay("rpl_unknown") is None


def test_a_replay_over_each_store_replays_once_and_then_finds_duplicates(
    store: Store, registry: Registry
) -> None:
    """The replay service over each store: v2-shaped failures of shipment@1 become shipment@2 records with
    lineage and resolutions, the failures stay as they were, and the same replay again writes nothing."""
    failure_ids = sent_to_v1(Pipeline(registry, store), [v2_shaped(n) for n in range(7)])
    before = [store.get_failure(failure_id) for failure_id in failure_ids]
    request = ReplayRequest(to="shipment@2", contract="shipment", version=1, allow_draft=True)
    target = target_of(registry, request.to, allow_draft=True)
    replayer = Replayer(store, target, batch_size=3)
    first = replayer.run(replayer.start(request))
    again = Replayer(store, target, batch_size=3)
    second = again.run(again.start(request))
    assert (first.summary.replayed, second.summary.replayed, second.summary.duplicates) == (7, 0, 7)
    assert store.stats().accepted_by_contract == {"shipment@2": 7}
    assert [store.get_failure(failure_id) for failure_id in failure_ids] == before
    for failure_id in failure_ids:
        [resolution] = store.resolutions(failure_id)
        lineage = store.lineage(resolution.record_id)
        assert lineage is not None
        assert (lineage.replayed_from, lineage.replay_id) == (failure_id, first.replay_id)
    assert [run.replay_id for run in store.list_replays()] == [second.replay_id, first.replay_id]
