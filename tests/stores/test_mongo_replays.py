"""MongoDB's replay writes, which have no transaction: a batch cut short is repaired by the next run."""

from typing import Any

from pymongo.database import Database

from replay_support import replayed
from sigma_aetl.stores.mongo import MongoStore
from stores.conftest import RecordFactory


def test_a_record_stored_without_its_resolution_is_resolved_by_the_rerun(
    mongo_store: MongoStore, mongo_db: Database[dict[str, Any]], make_record: RecordFactory
) -> None:
    """A run that stored a record and its lineage but died before the resolution: the same replay again
    finds the record a duplicate, and adds the missing resolution, naming the run that wrote the record."""
    record = make_record("SHIP-1", version=2)
    mongo_store.write_replayed([replayed(record, "fail_a", "rpl_1")])
    mongo_db["sigma_aetl_resolutions"].delete_many({})
    assert mongo_store.resolutions("fail_a") == []
    again = mongo_store.write_replayed([replayed(record, "fail_a", "rpl_2")])
    assert again.existing_records == {record.record_id: record.content_hash}
    assert again.resolved == {"fail_a"}
    assert [r.replay_id for r in mongo_store.resolutions("fail_a")] == ["rpl_1"]


def test_a_lineage_claim_without_its_record_is_completed_by_the_rerun(
    mongo_store: MongoStore, mongo_db: Database[dict[str, Any]], make_record: RecordFactory
) -> None:
    """A run that claimed a record's lineage but died before writing the record: the rerun writes the
    record and resolves the failure; the lineage keeps the first claim."""
    record = make_record("SHIP-1", version=2)
    mongo_store.write_replayed([replayed(record, "fail_a", "rpl_1")])
    mongo_db["validated_shipments"].delete_many({})
    mongo_db["sigma_aetl_resolutions"].delete_many({})
    again = mongo_store.write_replayed([replayed(record, "fail_a", "rpl_2")])
    assert again.new_records == {record.record_id}
    assert mongo_store.get_record(record.record_id) == record
    lineage = mongo_store.lineage(record.record_id)
    assert lineage is not None
    assert lineage.replay_id == "rpl_1"
    assert len(mongo_store.resolutions("fail_a")) == 1
