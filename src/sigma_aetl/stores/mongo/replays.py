"""The replay collections: runs, lineage (one per record a replay wrote), resolutions (one per failure and
record), kept apart from the records and failures they link, so those documents stay as first written.

    sigma_aetl_replays       {"_id": "rpl_…", "started_us": …, "doc": "<the run's JSON>"}
    sigma_aetl_lineage       {"_id": record_id, "replayed_from": failure_id, "doc": "<JSON>"}
    sigma_aetl_resolutions   {"_id": "<failure_id> <record_id>", "failure_id": …, "doc": "<JSON>"}

MongoDB writes a replay batch without a transaction, in an order that a rerun repairs: the lineage of the
records not stored yet first (insert-if-absent, so the first claim wins), then the records, then the
resolution of every failure whose record's stored lineage names it. A run killed between two steps leaves at
most a lineage whose record is missing (the rerun writes the record, and the lineage names the run that
claimed it first) or a record without its failure's resolution (the rerun adds it). One gap without a
transaction: should the gateway store the same record id in the instant between the replay's lookup and
its lineage claim, that record carries the claim (its failure is resolved only if the content is the
same; SQLite does all three in one transaction). Raises
pymongo's errors; the store translates them.
"""

from collections.abc import Callable, Sequence
from datetime import datetime

from pymongo import ASCENDING, DESCENDING, IndexModel, UpdateOne
from pymongo.collection import Collection
from pymongo.database import Database

from sigma_aetl.core.records import AcceptedRecord
from sigma_aetl.stores.base import Lineage, Replayed, ReplayRun, ReplayWrite, Resolution, WriteReport, micros
from sigma_aetl.stores.mongo.documents import Doc

_RUNS = "sigma_aetl_replays"
_LINEAGE = "sigma_aetl_lineage"
_RESOLUTIONS = "sigma_aetl_resolutions"

WriteRecords = Callable[[Sequence[AcceptedRecord]], WriteReport]
"""The store's own record write (headers, indexes, idempotency): what a replay writes its records with."""


class Replays:
    """The three collections of one database."""

    def __init__(self, database: Database[Doc]) -> None:
        self.runs: Collection[Doc] = database[_RUNS]
        self.lineage: Collection[Doc] = database[_LINEAGE]
        self.resolutions: Collection[Doc] = database[_RESOLUTIONS]

    def set_up(self) -> None:
        """Build the indexes: runs by start time, resolutions by failure."""
        self.runs.create_indexes([IndexModel([("started_us", DESCENDING)], name="started")])
        self.resolutions.create_indexes([IndexModel([("failure_id", ASCENDING)], name="failure")])

    def write(
        self, items: Sequence[Replayed], existing: set[str], write_records: WriteRecords, now: datetime
    ) -> ReplayWrite:
        """Store a replay batch (see the module docstring); ``existing``: its record ids stored already."""
        first = {item.record.record_id: item for item in reversed(items)}
        claims = [_claim(item.lineage) for rid, item in sorted(first.items()) if rid not in existing]
        if claims:
            self.lineage.bulk_write(claims, ordered=False)
        report = write_records([item.record for item in items])
        named, stored = self._lineage_of(sorted(first)), report.existing_records
        resolutions = [
            item.resolution(named[item.record.record_id], now)
            for item in items
            if item.resolves(named.get(item.record.record_id), stored.get(item.record.record_id))
        ]
        if resolutions:
            self.resolutions.bulk_write([_resolved(r) for r in resolutions], ordered=False)
        return ReplayWrite(report.new_records, report.existing_records, {r.failure_id for r in resolutions})

    def _lineage_of(self, record_ids: list[str]) -> dict[str, Lineage]:
        found = self.lineage.find({"_id": {"$in": record_ids}}, {"doc": 1})
        return {str(doc["_id"]): Lineage.model_validate_json(doc["doc"]) for doc in found}

    def lineage_of(self, record_id: str) -> Lineage | None:
        """The lineage of one record, or None."""
        return self._lineage_of([record_id]).get(record_id)

    def resolutions_of(self, failure_id: str) -> list[Resolution]:
        """A failure's resolutions, oldest first."""
        found = [
            Resolution.model_validate_json(doc["doc"])
            for doc in self.resolutions.find({"failure_id": failure_id}, {"doc": 1})
        ]
        return sorted(found, key=lambda r: (r.resolved_at, r.record_id))

    def save(self, run: ReplayRun) -> None:
        """Insert or replace ``run`` (the replacement names its ``_id``: nx-27017's upsert does not take it
        from the filter, as mongod does)."""
        doc = {"_id": run.replay_id, "started_us": micros(run.started_at), "doc": run.model_dump_json()}
        self.runs.replace_one({"_id": run.replay_id}, doc, upsert=True)

    def get(self, replay_id: str) -> ReplayRun | None:
        """One run, or None."""
        found = self.runs.find_one({"_id": replay_id}, {"doc": 1})
        return None if found is None else ReplayRun.model_validate_json(found["doc"])

    def every(self, limit: int, offset: int) -> list[ReplayRun]:
        """Runs, the latest started first."""
        order = [("started_us", DESCENDING), ("_id", DESCENDING)]
        found = self.runs.find({}, {"doc": 1}).sort(order).skip(offset).limit(limit)
        return [ReplayRun.model_validate_json(doc["doc"]) for doc in found]


def _claim(lineage: Lineage) -> UpdateOne:
    """Insert the lineage unless its record has one (the first claim wins)."""
    doc = {"replayed_from": lineage.replayed_from, "doc": lineage.model_dump_json()}
    return UpdateOne({"_id": lineage.record_id}, {"$setOnInsert": doc}, upsert=True)


def _resolved(resolution: Resolution) -> UpdateOne:
    doc = {"failure_id": resolution.failure_id, "doc": resolution.model_dump_json()}
    key = f"{resolution.failure_id} {resolution.record_id}"
    return UpdateOne({"_id": key}, {"$setOnInsert": doc}, upsert=True)
