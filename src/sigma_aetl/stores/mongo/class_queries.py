"""Reading failure classes and producer activity from MongoDB: a page, one class, one producer.

Every read is on the class collection alone (``classes.py``), never on the failures: the order is an index
(count or last seen, then the class id); the ``field`` and ``producer`` filters read the class documents,
so a page costs the number of classes, whatever the number of failures.
"""

from typing import Any

from pymongo import ASCENDING, DESCENDING

from sigma_aetl.core.classes import FailureClass
from sigma_aetl.core.taxonomy import RootCause
from sigma_aetl.stores.base import ClassPage, ClassQuery, ProducerActivity, from_micros, micros
from sigma_aetl.stores.mongo.classes import ACTIVITY, CLASSES, escape, unescape
from sigma_aetl.stores.mongo.layout import Layout

_ORDER = {
    "count": [("count", DESCENDING), ("class_id", ASCENDING)],
    "last_seen": [("last_seen_us", DESCENDING), ("class_id", ASCENDING)],
}


def page(layout: Layout, query: ClassQuery) -> ClassPage:
    """The classes matching ``query``, in its order, a page at a time."""
    collection = layout.database[CLASSES]
    where = _filter(query)
    total = collection.count_documents(where)
    items: list[FailureClass] = []
    if total > query.offset:
        found = collection.find(where).sort(_ORDER[query.order]).skip(query.offset).limit(query.limit)
        items = [class_of(doc) for doc in found]
    more = bool(items) and query.offset + len(items) < total
    return ClassPage(
        items=items,
        total=total,
        limit=query.limit,
        offset=query.offset,
        next_offset=query.offset + len(items) if more else None,
    )


def one(layout: Layout, class_id: str) -> FailureClass | None:
    """One class by id."""
    found = layout.database[CLASSES].find_one({"_id": class_id, "count": {"$gt": 0}})
    return None if found is None else class_of(found)


def activity(layout: Layout, contract: str, producer: str) -> list[ProducerActivity]:
    """What ``producer`` had accepted under each version of ``contract``, oldest version first."""
    found = layout.database[ACTIVITY].find({"contract": contract, "producer": producer})
    return [
        ProducerActivity(
            contract=contract,
            version=doc["version"],
            producer=producer,
            accepted=doc["accepted"],
            first_accepted=from_micros(doc["first_us"]),
            last_accepted=from_micros(doc["last_us"]),
        )
        for doc in sorted(found, key=lambda doc: doc["version"])
    ]


def _filter(query: ClassQuery) -> dict[str, Any]:
    where: dict[str, Any] = {"count": {"$gt": 0}}  # not a class just inserted, not counted yet
    chosen: list[tuple[str, Any]] = [
        ("contract", query.contract),
        ("version", query.version),
        ("root_cause", query.root_cause.value if query.root_cause else None),
        ("fields", query.field),
    ]
    for key, value in chosen:
        if value is not None:
            where[key] = value
    if query.producer is not None:
        where[f"producers.{escape(query.producer)}"] = {"$gt": 0}
    if query.since is not None:
        where["last_seen_us"] = {"$gte": micros(query.since)}
    return where


def class_of(doc: dict[str, Any]) -> FailureClass:
    """The class a document holds."""
    first_us, _, first_id = str(doc["first"]).partition(" ")
    producers = {unescape(key): n for key, n in (doc.get("producers") or {}).items() if n > 0}
    return FailureClass(
        class_id=doc["_id"],
        contract_ref=doc["contract_ref"],
        contract=doc.get("contract"),
        version=doc.get("version"),
        root_cause=RootCause(doc["root_cause"]),
        errors=tuple((path, kind) for path, kind in doc["errors"]),
        count=doc["count"],
        occurrences=doc["occurrences"],
        first_seen=from_micros(int(first_us)),
        last_seen=from_micros(doc["last_seen_us"]),
        first_failure_id=first_id,
        producers=dict(sorted(producers.items(), key=lambda item: (-item[1], item[0]))),
        samples=tuple(doc.get("samples", ())),
    )
