"""The ``advisory_jobs`` and ``advisories`` tables: the advisory AI's durable queue, and what it said.

One job per target (the primary key), so enqueueing is idempotent. A lease is one ``UPDATE … RETURNING``
in an immediate transaction: SQLite's write lock orders two advisors, so no job is leased twice while its
lease runs. Advisories are rows of their own, apart from the failures (which they never touch); each is
its JSON document, with its target, status and time as columns for the lookups.

Like API keys, these are written on a connection beside the writer process (``SqliteStore._beside_writer``);
the tables are created on the first such write, so a store that never used the advisor has none, and reads
of a store without them (or opened read-only) find nothing.
"""

import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sigma_aetl.core.advisories import JOB_STATES, Advisory, AdvisoryJob, AdvisoryTarget
from sigma_aetl.stores.base import from_micros, micros

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS advisory_jobs (
    target_kind     TEXT NOT NULL,
    target_id       TEXT NOT NULL,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    lease_owner     TEXT,
    lease_until     INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (target_kind, target_id)
);
CREATE INDEX IF NOT EXISTS advisory_jobs_due ON advisory_jobs (state, next_attempt_at);
CREATE TABLE IF NOT EXISTS advisories (
    target_kind TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    status      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    doc         TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS advisories_target ON advisories (target_kind, target_id);
CREATE INDEX IF NOT EXISTS advisories_status ON advisories (status, created_at);
"""
_JOB = (
    "target_kind, target_id, state, attempts, next_attempt_at, lease_owner, lease_until, last_error, "
    "created_at"
)
_LEASED = "state = 'leased' AND lease_owner = ? AND target_kind = ? AND target_id = ?"


def enqueue(conn: sqlite3.Connection, targets: Sequence[AdvisoryTarget], at: datetime) -> int:
    """A queued job for every target without one; how many were added."""
    before = conn.total_changes
    rows = [(target.kind, target.id, micros(at), micros(at)) for target in targets]
    conn.executemany(
        "INSERT OR IGNORE INTO advisory_jobs (target_kind, target_id, state, attempts, next_attempt_at, "
        "created_at) VALUES (?, ?, 'queued', 0, ?, ?)",
        rows,
    )
    return conn.total_changes - before


def unknown(conn: sqlite3.Connection, targets: Sequence[AdvisoryTarget]) -> list[AdvisoryTarget]:
    """The targets without a job, read without the write lock (most of a sync's targets have one)."""
    select = "SELECT 1 FROM advisory_jobs WHERE target_kind = ? AND target_id = ?"

    def has_job(target: AdvisoryTarget) -> bool:
        return conn.execute(select, (target.kind, target.id)).fetchone() is not None

    return _absent_as(list(targets), lambda: [target for target in targets if not has_job(target)])


def any_due(conn: sqlite3.Connection, now: datetime) -> bool:
    """Whether a job is due at ``now``, read without the write lock (an idle poll takes no lock)."""
    select = (
        "SELECT 1 FROM advisory_jobs WHERE (state = 'queued' AND next_attempt_at <= ?) "
        "OR (state = 'leased' AND lease_until <= ?) LIMIT 1"
    )
    return _absent_as(False, lambda: conn.execute(select, (micros(now), micros(now))).fetchone() is not None)


def lease(
    conn: sqlite3.Connection, owner: str, now: datetime, term: timedelta, limit: int
) -> list[AdvisoryJob]:
    """Lease up to ``limit`` due jobs to ``owner`` until ``now + term``, earliest due first."""
    due = micros(now)
    found = conn.execute(
        f"UPDATE advisory_jobs SET state = 'leased', lease_owner = ?, lease_until = ? WHERE rowid IN ("
        "SELECT rowid FROM advisory_jobs WHERE (state = 'queued' AND next_attempt_at <= ?) "
        "OR (state = 'leased' AND lease_until <= ?) ORDER BY next_attempt_at, target_kind, target_id LIMIT ?"
        f") RETURNING {_JOB}",
        (owner, micros(now + term), due, due, limit),
    ).fetchall()
    return sorted((_job(row) for row in found), key=lambda job: (job.next_attempt_at, job.target.id))


def retry(conn: sqlite3.Connection, owner: str, job: AdvisoryJob, error: str, at: datetime) -> bool:
    """Queue ``job`` again for ``at``, one attempt more, if ``owner`` still holds its lease."""
    done = conn.execute(
        "UPDATE advisory_jobs SET state = 'queued', attempts = attempts + 1, next_attempt_at = ?, "
        f"lease_owner = NULL, lease_until = NULL, last_error = ? WHERE {_LEASED}",
        (micros(at), error, owner, job.target.kind, job.target.id),
    )
    return done.rowcount == 1


def finish(conn: sqlite3.Connection, owner: str, advisory: Advisory) -> bool:
    """Store ``advisory`` and close its job (done, or failed for an error), if ``owner`` holds the lease."""
    target = advisory.target
    state = "done" if advisory.status == "ok" else "failed"
    closed = conn.execute(
        f"UPDATE advisory_jobs SET state = ?, attempts = ?, lease_owner = NULL, lease_until = NULL, "
        f"last_error = ? WHERE {_LEASED}",
        (state, advisory.attempts, advisory.error, owner, target.kind, target.id),
    )
    if closed.rowcount != 1:
        return False
    conn.execute(
        "INSERT INTO advisories (target_kind, target_id, status, created_at, doc) VALUES (?, ?, ?, ?, ?)",
        (target.kind, target.id, advisory.status, micros(advisory.created_at), advisory.model_dump_json()),
    )
    return True


def job_of(conn: sqlite3.Connection, target: AdvisoryTarget) -> AdvisoryJob | None:
    """The target's job, or None."""
    select = f"SELECT {_JOB} FROM advisory_jobs WHERE target_kind = ? AND target_id = ?"
    row = _absent_as(None, lambda: conn.execute(select, (target.kind, target.id)).fetchone())
    return _job(row) if row else None


def depth(conn: sqlite3.Connection) -> dict[str, int]:
    """Jobs per state (every state named, zero included)."""
    select = "SELECT state, count(*) FROM advisory_jobs GROUP BY state"
    counted: dict[str, int] = dict(_absent_as([], lambda: conn.execute(select).fetchall()))
    return {state: int(counted.get(state, 0)) for state in JOB_STATES}


def of_target(conn: sqlite3.Connection, target: AdvisoryTarget) -> list[Advisory]:
    """The target's advisories, newest first."""
    select = "SELECT doc FROM advisories WHERE target_kind = ? AND target_id = ? ORDER BY rowid DESC"
    rows: list[Any] = _absent_as([], lambda: conn.execute(select, (target.kind, target.id)).fetchall())
    return [Advisory.model_validate_json(row[0]) for row in rows]


def recent_errors(conn: sqlite3.Connection, limit: int) -> list[Advisory]:
    """The latest advisories with status error, newest first."""
    select = "SELECT doc FROM advisories WHERE status = 'error' ORDER BY created_at DESC, rowid DESC LIMIT ?"
    rows: list[Any] = _absent_as([], lambda: conn.execute(select, (limit,)).fetchall())
    return [Advisory.model_validate_json(row[0]) for row in rows]


def _job(row: tuple[Any, ...]) -> AdvisoryJob:
    kind, target_id, state, attempts, next_at, owner, until, error, created = row
    return AdvisoryJob(
        target=AdvisoryTarget(kind=kind, id=target_id),
        state=state,
        attempts=attempts,
        next_attempt_at=from_micros(next_at),
        lease_owner=owner,
        lease_until=None if until is None else from_micros(until),
        last_error=error,
        created_at=from_micros(created),
    )


def _absent_as(default: T, read: Callable[[], T]) -> T:
    """``read()``, or ``default`` in a store whose advisor never ran (the tables do not exist yet)."""
    try:
        return read()
    except sqlite3.OperationalError as exc:
        if "no such table: advisor" in str(exc):
            return default
        raise
