"""The flood guard's collection: one document per alert, keyed by its id.

    sigma_aetl_alerts  {"_id": "alr_…", "raised_us": …, "doc": "<the alert as JSON>"}

The ``_id`` makes saving idempotent (an upsert that only sets on insert); the index on ``raised_us`` lists
them newest first. The index is built on the first write, so a database whose guard never tripped has no
collection. Raises pymongo's errors; the store translates them.
"""

from datetime import datetime

from pymongo import DESCENDING, IndexModel
from pymongo.collection import Collection
from pymongo.database import Database

from sigma_aetl.core.alerts import Alert
from sigma_aetl.stores.base import micros
from sigma_aetl.stores.mongo.documents import Doc

ALERTS = "sigma_aetl_alerts"
# (not with `_id` as a second key: nx-27017 refuses a compound index naming `_id`, "JSON path error")
_INDEXES = [IndexModel([("raised_us", DESCENDING)], name="raised")]


class AlertCollection:
    """The alerts of one database."""

    def __init__(self, database: Database[Doc]) -> None:
        self.alerts: Collection[Doc] = database[ALERTS]
        self._indexed = False

    def ready(self) -> Collection[Doc]:
        """The collection, with its index built (once per process, before the first write)."""
        if not self._indexed:
            self.alerts.create_indexes(_INDEXES)
            self._indexed = True
        return self.alerts


def save(alerts: Collection[Doc], alert: Alert) -> None:
    """Insert ``alert`` unless its id is stored already."""
    doc = {"raised_us": micros(alert.raised_at), "doc": alert.model_dump_json()}
    alerts.update_one({"_id": alert.alert_id}, {"$setOnInsert": doc}, upsert=True)


def listed(alerts: Collection[Doc], since: datetime | None, limit: int) -> list[Alert]:
    """Alerts raised at or after ``since`` (all when None), newest first, at most ``limit``."""
    where = {} if since is None else {"raised_us": {"$gte": micros(since)}}
    found = alerts.find(where, {"doc": 1}).sort([("raised_us", DESCENDING), ("_id", 1)]).limit(limit)
    return [Alert.model_validate_json(doc["doc"]) for doc in found]
