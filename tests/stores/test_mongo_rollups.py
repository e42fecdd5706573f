"""MongoDB specifics of the analytics roll-ups: an upsert retried with its write's token counts once, and a
purge deletes the documents it leaves at zero."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sigma_aetl.core.analytics import AnalyticsWindow
from sigma_aetl.core.records import AcceptedRecord, FailureRecord
from sigma_aetl.stores.base import FailurePurge
from sigma_aetl.stores.mongo import MongoStore
from sigma_aetl.stores.mongo.rollups import FAILURE_HOURS, TRAFFIC, keep

RecordFactory = Callable[..., AcceptedRecord]
FailureFactory = Callable[..., FailureRecord]
T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
HOUR = AnalyticsWindow(since=T0, until=T0 + timedelta(hours=1))


def test_a_rollup_update_applied_twice_with_one_token_counts_once(
    mongo_store: MongoStore, make_record: RecordFactory
) -> None:
    """The same write's roll-up upserts, sent again (a transient error retried), change nothing more; another
    write's token counts."""
    record = make_record("S1", received_at=T0, source={"kind": "stdin"})
    mongo_store.write([record], [])
    layout = mongo_store._layout
    for _ in range(2):
        keep(layout, [record], [], {}, "one-token")
    keep(layout, [record], [], {}, "other-token")
    [version] = mongo_store.traffic_analytics(HOUR).versions
    assert version.accepted_total == 3
    assert [(p.producer, p.accepted) for p in mongo_store.traffic_analytics(HOUR).producers] == [("stdin", 3)]


def test_a_purge_deletes_the_rollup_documents_it_empties(
    mongo_store: MongoStore, make_failure: FailureFactory
) -> None:
    """Purging a minute's only failure leaves no traffic or hourly document behind for it."""
    mongo_store.write([], [make_failure("a", received_at=T0)])
    database = mongo_store._layout.database
    assert database[TRAFFIC].count_documents({}) == 1
    assert database[FAILURE_HOURS].count_documents({}) == 1
    mongo_store.purge_failures(FailurePurge())
    assert database[TRAFFIC].count_documents({}) == 0
    assert database[FAILURE_HOURS].count_documents({}) == 0
    assert mongo_store.traffic_analytics(HOUR).versions == []
