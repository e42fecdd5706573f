"""The ``alerts`` table: what the flood guards of every process on the store raised.

One row per alert, keyed by its id, so saving one twice stores it once; the alert is its JSON document,
with the time it was raised as a column for listing newest first. Like advisories, alerts are written on
a connection beside the writer process (``SqliteStore._beside_writer``); the table is created on the
first write, so a store whose guard never tripped has none, and reads of it find nothing.
"""

import sqlite3
from datetime import datetime
from typing import Any

from sigma_aetl.core.alerts import Alert
from sigma_aetl.stores.base import micros

SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (
    alert_id  TEXT PRIMARY KEY,
    raised_at INTEGER NOT NULL,
    doc       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_raised ON alerts (raised_at DESC);
"""


def save(conn: sqlite3.Connection, alert: Alert) -> None:
    """Insert ``alert`` unless its id is stored already."""
    conn.execute(
        "INSERT OR IGNORE INTO alerts (alert_id, raised_at, doc) VALUES (?, ?, ?)",
        (alert.alert_id, micros(alert.raised_at), alert.model_dump_json()),
    )


def listed(conn: sqlite3.Connection, since: datetime | None, limit: int) -> list[Alert]:
    """Alerts raised at or after ``since`` (all when None), newest first, at most ``limit``."""
    select = "SELECT doc FROM alerts WHERE raised_at >= ? ORDER BY raised_at DESC, alert_id LIMIT ?"
    start = -(2**63) if since is None else micros(since)
    try:
        rows: list[Any] = conn.execute(select, (start, limit)).fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table: alerts" in str(exc):
            return []
        raise
    return [Alert.model_validate_json(row[0]) for row in rows]
