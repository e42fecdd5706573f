"""Reading the analytics roll-ups from SQLite: failures per bucket and group, traffic, new classes.

Every read is a range scan of a roll-up table on its primary key (minute or hour first), summed per
bucket in SQL, so its cost is the number of (minute, key) rows in the window — (hour, class) rows for the
failures of hour and day buckets — never the number of records or
failures stored (``rollups.py``). The groups and the ``other`` series are built in ``stores/analytics.py``.
"""

import sqlite3
from datetime import datetime
from typing import Any

from sigma_aetl.core.analytics import (
    AnalyticsWindow,
    FailureAnalytics,
    FailureAnalyticsQuery,
    TrafficAnalytics,
)
from sigma_aetl.core.classes import FailureClass
from sigma_aetl.stores import analytics
from sigma_aetl.stores.analytics import ClassInfo
from sigma_aetl.stores.base import micros
from sigma_aetl.stores.sqlite import class_queries
from sigma_aetl.stores.sqlite.lookups import by_keys


def failures(conn: sqlite3.Connection, query: FailureAnalyticsQuery) -> FailureAnalytics:
    """Failures per bucket and group over the query's window."""
    if query.group_by == "producer":
        where, params = _where(query)
        cells = conn.execute(
            f"SELECT minute - minute % ?, producer, sum(failed) FROM producer_minutes {where} GROUP BY 1, 2",
            [analytics.step_us(query), *params],
        ).fetchall()
        return analytics.failure_answer(query, cells)
    rows: list[tuple[int, str, int]] = []
    for kind, start, end in analytics.class_spans(query):
        table = "failure_hours" if kind == "hour" else "failure_minutes"
        rows += conn.execute(
            f"SELECT {kind} - {kind} % ?, class_id, sum(failures) FROM {table} "
            f"WHERE {kind} >= ? AND {kind} < ? GROUP BY 1, 2",
            (analytics.step_us(query), start, end),
        ).fetchall()
    info = _classes(conn, sorted({row[1] for row in rows}))
    return analytics.failure_answer(query, analytics.class_cells(query, rows, info))


def traffic(conn: sqlite3.Connection, window: AnalyticsWindow) -> TrafficAnalytics:
    """Accepted and failed per contract version and bucket, and per producer, over ``window``."""
    where, params = _where(window)
    rows = conn.execute(
        "SELECT minute - minute % ?, contract, version, sum(accepted), sum(failed), max(minute) "
        f"FROM traffic_minutes {where} GROUP BY 1, 2, 3",
        [analytics.step_us(window), *params],
    ).fetchall()
    producers = conn.execute(
        f"SELECT producer, sum(accepted), sum(failed) FROM producer_minutes {where} GROUP BY 1", params
    ).fetchall()
    return analytics.traffic_answer(window, rows, producers)


def new_classes(conn: sqlite3.Connection, since: datetime, until: datetime, limit: int) -> list[FailureClass]:
    """Classes first seen in ``[since, until)``, most recent first (along ``classes_first_seen``)."""
    return class_queries.first_seen_in(conn, micros(since), micros(until), limit)


def _where(window: AnalyticsWindow) -> tuple[str, list[Any]]:
    start, end = analytics.span(window)
    clauses = ["minute >= ?", "minute < ?"]
    params: list[Any] = [start, end]
    if window.contract is not None:
        clauses.append("contract = ?")
        params.append(window.contract)
    if window.version is not None:
        clauses.append("version = ?")
        params.append(window.version)
    return "WHERE " + " AND ".join(clauses), params


def _classes(conn: sqlite3.Connection, class_ids: list[str]) -> dict[str, ClassInfo]:
    select = "SELECT class_id, contract_ref, root_cause, errors FROM failure_classes"
    return {row[0]: ClassInfo.of(*row[1:]) for row in by_keys(conn, select, "class_id", class_ids)}
