"""MongoDB specifics of occurrences: the counting fields beside ``doc``, and retries that count once."""

import contextlib
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import AutoReconnect, BulkWriteError

from sigma_aetl.core import serial
from sigma_aetl.core.records import MAX_LATEST, FailureRecord
from sigma_aetl.stores.mongo import MongoStore
from sigma_aetl.stores.mongo.documents import COUNTED_BY
from store_support import T0

Db = Database[dict[str, Any]]
FailureFactory = Callable[..., FailureRecord]


def test_counting_fields_sit_beside_the_document(
    mongo_store: MongoStore, mongo_db: Db, make_failure: FailureFactory
) -> None:
    """A raw failure's document keeps its record as first written and counts arrivals in fields beside it,
    each bounded; a keyed failure's document has none of them."""
    raw = make_failure(identified_by="raw", source={"kind": "http", "n": 0})
    keyed = make_failure("k1", raw=b"other")
    mongo_store.write([], [raw, keyed, keyed])
    for n in range(1, 15):
        mongo_store.write(
            [], [replace(raw, received_at=T0 + timedelta(seconds=n), source={"kind": "http", "n": n})]
        )
    doc = mongo_db["failed_shipments"].find_one({"failure_id": raw.failure_id})
    assert doc is not None
    assert serial.loads(FailureRecord, doc["doc"]) == raw
    assert b"occurrences" not in doc["doc"]
    assert (doc["occurrences"], doc["first_counted"]) == (15, 1)
    assert doc["last_seen_us"] - doc["first_seen_us"] == 14_000_000
    assert [source_n(item) for item in doc["latest"]] == list(range(15 - MAX_LATEST, 15))
    assert len(doc["counted_by"]) == COUNTED_BY
    plain = mongo_db["failed_shipments"].find_one({"failure_id": keyed.failure_id})
    assert plain is not None
    assert not {"occurrences", "first_counted", "latest", "counted_by", "last_seen_us"} & plain.keys()


def source_n(item: str) -> int:
    """The ``n`` of the source of one stored latest arrival (JSON text)."""
    n: int = serial.loads(dict[str, Any], item)["source"]["n"]
    return n


def test_a_counting_write_retried_after_landing_counts_once(
    mongo_store: MongoStore, make_failure: FailureFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bulk write that landed before a dropped connection, retried, counts each arrival once and still
    reports the failure it inserted as new and the one it counted as existing."""
    original = Collection.bulk_write
    calls: list[int] = []

    def land_then_drop(self: Collection[dict[str, Any]], ops: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(len(ops))
        if len(calls) == 1:
            with contextlib.suppress(BulkWriteError):
                original(self, ops, *args, **kwargs)
            raise AutoReconnect("connection dropped after the write")
        return original(self, ops, *args, **kwargs)

    old = make_failure(identified_by="raw", raw=b"old")
    mongo_store.write([], [old])
    monkeypatch.setattr(Collection, "bulk_write", land_then_drop)
    new = make_failure(identified_by="raw", raw=b"new")
    report = mongo_store.write([], [old, new, new])
    assert len(calls) >= 2
    assert report.new_failures == {new.failure_id}
    assert report.existing_failures == {old.failure_id}
    counts: dict[str, int] = {}
    for failure in (old, new):
        stored = mongo_store.get_failure(failure.failure_id)
        assert stored is not None
        assert stored.occurrences is not None
        counts[failure.raw.text] = stored.occurrences.count
    assert counts == {"old": 2, "new": 2}
