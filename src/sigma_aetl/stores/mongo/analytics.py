"""Reading the analytics roll-ups from MongoDB: failures per bucket and group, traffic, new classes.

Every read is a range query on a roll-up collection's ``minute`` (or ``hour``) index, summed per bucket
here: its cost is the number of (minute, key) documents in the window — (hour, class) documents for the
failures of hour and day buckets —, never the number of records or failures stored
(``rollups.py``). The groups and the ``other`` series are built in ``stores/analytics.py``. New classes
are read along the class collection's ``first`` index (``first`` sorts as time, then failure id).
"""

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING

from sigma_aetl.core.analytics import (
    AnalyticsWindow,
    FailureAnalytics,
    FailureAnalyticsQuery,
    TrafficAnalytics,
)
from sigma_aetl.core.classes import FailureClass
from sigma_aetl.stores import analytics
from sigma_aetl.stores.analytics import ClassInfo, TrafficRow
from sigma_aetl.stores.base import micros
from sigma_aetl.stores.mongo.class_queries import class_of
from sigma_aetl.stores.mongo.classes import CLASSES
from sigma_aetl.stores.mongo.layout import Layout
from sigma_aetl.stores.mongo.rollups import FAILURE_HOURS, FAILURES, PRODUCERS, TRAFFIC

Doc = dict[str, Any]


def failures(layout: Layout, query: FailureAnalyticsQuery) -> FailureAnalytics:
    """Failures per bucket and group over the query's window."""
    step = analytics.step_us(query)
    if query.group_by == "producer":
        cells = [
            (analytics.bucket_us(doc["minute"], step), doc["producer"], doc["failed"])
            for doc in _in(layout, PRODUCERS, query, {"producer": 1, "failed": 1})
        ]
        return analytics.failure_answer(query, cells)
    rows: list[tuple[int, str, int]] = []
    for kind, start, end in analytics.class_spans(query):
        collection = layout.database[FAILURE_HOURS if kind == "hour" else FAILURES]
        found = collection.find(
            {kind: {"$gte": start, "$lt": end}}, {"_id": 0, kind: 1, "class_id": 1, "failures": 1}
        )
        rows += [(analytics.bucket_us(doc[kind], step), doc["class_id"], doc["failures"]) for doc in found]
    info = _classes(layout, sorted({row[1] for row in rows}))
    return analytics.failure_answer(query, analytics.class_cells(query, rows, info))


def traffic(layout: Layout, window: AnalyticsWindow) -> TrafficAnalytics:
    """Accepted and failed per contract version and bucket, and per producer, over ``window``."""
    step = analytics.step_us(window)
    fields = {"contract": 1, "version": 1, "accepted": 1, "failed": 1}
    rows: list[TrafficRow] = [
        (
            analytics.bucket_us(doc["minute"], step),
            doc["contract"],
            doc["version"],
            doc["accepted"],
            doc["failed"],
            doc["minute"],
        )
        for doc in _in(layout, TRAFFIC, window, fields)
    ]
    producers = [
        (doc["producer"], doc["accepted"], doc["failed"])
        for doc in _in(layout, PRODUCERS, window, {"producer": 1, "accepted": 1, "failed": 1})
    ]
    return analytics.traffic_answer(window, rows, producers)


def new_classes(layout: Layout, since: datetime, until: datetime, limit: int) -> list[FailureClass]:
    """Classes first seen in ``[since, until)``, most recent first, ties by class id (as SQLite)."""
    collection = layout.database[CLASSES]
    where = {"count": {"$gt": 0}, "first": {"$gte": _prefix(micros(since)), "$lt": _prefix(micros(until))}}
    found = list(collection.find(where).sort([("first", DESCENDING), ("class_id", ASCENDING)]).limit(limit))
    if len(found) == limit:  # the classes first seen in the same µs as the last one, for an exact tie-break
        boundary = int(str(found[-1]["first"]).partition(" ")[0])
        tied = {"count": {"$gt": 0}, "first": {"$gte": _prefix(boundary), "$lt": _prefix(boundary + 1)}}
        found.extend(doc for doc in collection.find(tied) if doc not in found)
    classes = sorted((class_of(doc) for doc in found), key=lambda c: (-micros(c.first_seen), c.class_id))
    return classes[:limit]


def _prefix(at_us: int) -> str:
    """The ``first`` key of a moment with the smallest failure id (``classes.first_key``)."""
    return f"{at_us:020d}"


def _in(layout: Layout, name: str, window: AnalyticsWindow, fields: Doc) -> Iterator[Doc]:
    start, end = analytics.span(window)
    where: Doc = {"minute": {"$gte": start, "$lt": end}}
    if window.contract is not None:
        where["contract"] = window.contract
    if window.version is not None:
        where["version"] = window.version
    yield from layout.database[name].find(where, {"_id": 0, "minute": 1, **fields})


def _classes(layout: Layout, class_ids: list[str]) -> dict[str, ClassInfo]:
    fields = {"contract_ref": 1, "root_cause": 1, "errors": 1}
    found = layout.database[CLASSES].find({"_id": {"$in": class_ids}}, fields)
    return {
        doc["_id"]: ClassInfo(doc["contract_ref"], doc["root_cause"], _fields(doc["errors"])) for doc in found
    }


def _fields(errors: list[list[str]]) -> tuple[str, ...]:
    return tuple(sorted({path for path, _ in errors}))
