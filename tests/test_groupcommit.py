"""Group commit: concurrent submissions share one transaction and each gets its own outcomes."""

import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core.envelope import Envelope
from sigma_aetl.core.records import AcceptedRecord, FailureRecord
from sigma_aetl.errors import StoreUnavailable
from sigma_aetl.groupcommit import GroupCommitter
from sigma_aetl.pipeline import Pipeline
from sigma_aetl.stores.base import PendingWrite
from sigma_aetl.stores.sqlite import SqliteStore
from sigma_aetl.testing import INVALID_SHIPMENT, VALID_SHIPMENT


def shipment(n: int) -> Envelope:
    """A valid shipment envelope with its own id."""
    raw = VALID_SHIPMENT.replace(b"SHIP-TRUE-003", f"SHIP-{n}".encode())
    return Envelope(raw=raw, contract="shipment", version="1", received_at=datetime.now(UTC))


class GatedStore(SqliteStore):
    """A real SQLite store whose first write waits until the test opens the gate."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.writes: list[int] = []

    def submit(self, records: Sequence[AcceptedRecord], failures: Sequence[FailureRecord]) -> PendingWrite:
        """Wait at the gate, then write."""
        self.entered.set()
        self.gate.wait(timeout=10)
        self.writes.append(len(records) + len(failures))
        return super().submit(records, failures)


@pytest.fixture
def gated(tmp_path: Path, registry: Registry) -> tuple[GatedStore, GroupCommitter]:
    """A committer over a gated store."""
    store = GatedStore(tmp_path / "g.db")
    return store, GroupCommitter(Pipeline(registry, store))


def test_requests_queued_during_a_write_share_the_next_transaction(
    gated: tuple[GatedStore, GroupCommitter],
) -> None:
    """Submissions that arrive while a write is in flight are stored together in one transaction."""
    store, committer = gated
    first = committer.submit([shipment(0)])
    assert store.entered.wait(timeout=10)
    waiting = [committer.submit([shipment(n)]) for n in range(1, 11)]
    store.gate.set()
    outcomes = [future.result(timeout=10) for future in [first, *waiting]]
    committer.close()
    assert store.writes == [1, 10]
    assert committer.groups == 2
    assert all(len(result) == 1 and result[0].status == "PASSED" for result in outcomes)
    assert len({result[0].record_id for result in outcomes}) == 11


def test_each_submission_gets_its_own_outcomes_in_order(tmp_path: Path, registry: Registry) -> None:
    """Outcomes are handed back per submission, in the order of its envelopes."""
    committer = GroupCommitter(Pipeline(registry, SqliteStore(tmp_path / "o.db")))
    bad = Envelope(raw=INVALID_SHIPMENT, contract="shipment", version="1", received_at=datetime.now(UTC))
    mixed = committer.submit([shipment(1), bad, shipment(2)]).result(timeout=10)
    again = committer.submit([shipment(1)]).result(timeout=10)
    empty = committer.submit([]).result(timeout=10)
    committer.close()
    assert [o.status for o in mixed] == ["PASSED", "FAILED", "PASSED"]
    assert again[0].duplicate is True
    assert empty == []


class DownStore(SqliteStore):
    """A store whose writes fail as an unreachable disk would."""

    def submit(self, records: Sequence[AcceptedRecord], failures: Sequence[FailureRecord]) -> PendingWrite:
        """Fail."""
        raise StoreUnavailable("disk gone")


def test_a_store_failure_reaches_every_waiting_submission(tmp_path: Path, registry: Registry) -> None:
    """When the store fails, every submission in the group gets the error; none hangs."""
    committer = GroupCommitter(Pipeline(registry, DownStore(tmp_path / "d.db")))
    futures = [committer.submit([shipment(n)]) for n in range(5)]
    for future in futures:
        with pytest.raises(StoreUnavailable):
            future.result(timeout=10)
    committer.close()


def test_close_stores_what_is_queued(gated: tuple[GatedStore, GroupCommitter]) -> None:
    """Closing the committer first stores every queued submission."""
    store, committer = gated
    futures = [committer.submit([shipment(n)]) for n in range(20)]
    store.gate.set()
    committer.close()
    assert all(future.done() and future.result()[0].status == "PASSED" for future in futures)
    assert sum(store.writes) == 20
