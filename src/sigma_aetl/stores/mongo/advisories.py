"""The advisory AI's collections: its durable queue, one document per target, and the advisories.

    sigma_aetl_advisory_jobs  {"_id": "class:cls_…", "kind": "class", "target": "cls_…", "state": "queued",
                               "attempts": 0, "next_us": …, "owner": null, "until_us": null,
                               "error": null, "created_us": …}
    sigma_aetl_advisories     {"_id": ObjectId, "kind": …, "target": …, "status": "ok" | "error",
                               "created_us": …, "doc": "<the advisory as JSON>"}

The job's ``_id`` makes enqueueing idempotent (an upsert that only sets on insert). A lease is one
``find_one_and_update`` per job, atomic on the server, so two advisors never lease one job while its lease
runs; closing a job repeats the lease holder in its filter. Advisories live apart from the failures.
Indexes are built on the first write, so a database whose advisor never ran has neither collection.
Raises pymongo's errors; the store translates them.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument, UpdateOne
from pymongo.collection import Collection
from pymongo.database import Database

from sigma_aetl.core.advisories import JOB_STATES, Advisory, AdvisoryJob, AdvisoryTarget
from sigma_aetl.stores.base import from_micros, micros
from sigma_aetl.stores.mongo.documents import Doc

JOBS = "sigma_aetl_advisory_jobs"
ADVISORIES = "sigma_aetl_advisories"
_JOB_INDEXES = [
    IndexModel([("state", ASCENDING), ("next_us", ASCENDING)], name="due"),
    IndexModel([("state", ASCENDING), ("until_us", ASCENDING)], name="lease_expiry"),
]
_ADVISORY_INDEXES = [
    IndexModel([("kind", ASCENDING), ("target", ASCENDING), ("created_us", DESCENDING)], name="target"),
    IndexModel([("status", ASCENDING), ("created_us", DESCENDING)], name="status"),
]


class AdvisoryCollections:
    """The two collections of one database."""

    def __init__(self, database: Database[Doc]) -> None:
        self.jobs: Collection[Doc] = database[JOBS]
        self.advisories: Collection[Doc] = database[ADVISORIES]
        self._indexed = False

    def ready(self) -> "AdvisoryCollections":
        """Themselves, with their indexes built (once per process, before the first write)."""
        if not self._indexed:
            self.jobs.create_indexes(_JOB_INDEXES)
            self.advisories.create_indexes(_ADVISORY_INDEXES)
            self._indexed = True
        return self


def enqueue(jobs: Collection[Doc], targets: Sequence[AdvisoryTarget], at: datetime) -> int:
    """A queued job for every target without one; how many were added."""
    if not targets:
        return 0
    now = micros(at)
    upserts = [
        UpdateOne({"_id": _key(target)}, {"$setOnInsert": _new_job(target, now)}, upsert=True)
        for target in targets
    ]
    return jobs.bulk_write(upserts, ordered=False).upserted_count


def lease(jobs: Collection[Doc], owner: str, now: datetime, term: timedelta, limit: int) -> list[AdvisoryJob]:
    """Lease up to ``limit`` due jobs to ``owner`` until ``now + term``, earliest due first."""
    due = micros(now)
    where = {
        "$or": [{"state": "queued", "next_us": {"$lte": due}}, {"state": "leased", "until_us": {"$lte": due}}]
    }
    change = {"$set": {"state": "leased", "owner": owner, "until_us": micros(now + term)}}
    leased: list[AdvisoryJob] = []
    while len(leased) < limit:
        doc = jobs.find_one_and_update(
            where,
            change,
            sort=[("next_us", ASCENDING), ("_id", ASCENDING)],
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            break
        leased.append(_job(doc))
    return leased


def retry(jobs: Collection[Doc], owner: str, job: AdvisoryJob, error: str, at: datetime) -> bool:
    """Queue ``job`` again for ``at``, one attempt more, if ``owner`` still holds its lease."""
    change = {
        "$set": {"state": "queued", "next_us": micros(at), "owner": None, "until_us": None, "error": error},
        "$inc": {"attempts": 1},
    }
    return jobs.update_one(_held(owner, job.target), change).modified_count == 1


def finish(collections: AdvisoryCollections, owner: str, advisory: Advisory) -> bool:
    """Close the job (done, or failed for an error) if ``owner`` holds its lease, then store the advisory.

    The job is closed first: a crash between the two leaves a closed job without its advisory, never two
    advisories of one lease (``advisor status`` shows the job closed)."""
    target = advisory.target
    state = "done" if advisory.status == "ok" else "failed"
    change = {
        "$set": {
            "state": state,
            "attempts": advisory.attempts,
            "owner": None,
            "until_us": None,
            "error": advisory.error,
        }
    }
    if collections.jobs.update_one(_held(owner, target), change).modified_count != 1:
        return False
    collections.advisories.insert_one(
        {
            "kind": target.kind,
            "target": target.id,
            "status": advisory.status,
            "created_us": micros(advisory.created_at),
            "doc": advisory.model_dump_json(),
        }
    )
    return True


def job_of(jobs: Collection[Doc], target: AdvisoryTarget) -> AdvisoryJob | None:
    """The target's job, or None."""
    doc = jobs.find_one({"_id": _key(target)})
    return None if doc is None else _job(doc)


def depth(jobs: Collection[Doc]) -> dict[str, int]:
    """Jobs per state (every state named, zero included)."""
    return {state: jobs.count_documents({"state": state}) for state in JOB_STATES}


def of_target(advisories: Collection[Doc], target: AdvisoryTarget) -> list[Advisory]:
    """The target's advisories, newest first."""
    found = advisories.find({"kind": target.kind, "target": target.id}).sort("created_us", DESCENDING)
    return [Advisory.model_validate_json(doc["doc"]) for doc in found]


def recent_errors(advisories: Collection[Doc], limit: int) -> list[Advisory]:
    """The latest advisories with status error, newest first."""
    found = advisories.find({"status": "error"}).sort("created_us", DESCENDING)
    return [Advisory.model_validate_json(doc["doc"]) for doc in found.limit(limit)]


def _key(target: AdvisoryTarget) -> str:
    return f"{target.kind}:{target.id}"


def _held(owner: str, target: AdvisoryTarget) -> Doc:
    return {"_id": _key(target), "state": "leased", "owner": owner}


def _new_job(target: AdvisoryTarget, now: int) -> Doc:
    return {
        "kind": target.kind,
        "target": target.id,
        "state": "queued",
        "attempts": 0,
        "next_us": now,
        "owner": None,
        "until_us": None,
        "error": None,
        "created_us": now,
    }


def _job(doc: Doc) -> AdvisoryJob:
    until = doc.get("until_us")
    return AdvisoryJob(
        target=AdvisoryTarget(kind=doc["kind"], id=str(doc["target"])),
        state=doc["state"],
        attempts=int(doc["attempts"]),
        next_attempt_at=from_micros(int(doc["next_us"])),
        lease_owner=doc.get("owner"),
        lease_until=None if until is None else from_micros(int(until)),
        last_error=doc.get("error"),
        created_at=from_micros(int(doc["created_us"])),
    )
