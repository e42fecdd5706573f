"""Failure classes: listing them on a store of ``--scale`` failures of a few hundred kinds (issue 14).

The store is built through its real write path — ``SqliteStore.write`` with the writer process, in
transactions of :data:`BATCH` failures, ``synchronous=OFF`` (the build is set-up, not the figure) — from
failure records of :data:`KINDS` signatures (100 field paths x 3 root causes), so the failures and the
classes kept beside them are exactly what ingestion stores. Then each query is timed on a fresh reader,
the median of ``--runs`` x :data:`REPEATS` calls: a page in the default order (count), one by last seen, a
filtered one (root cause and field), and one class by id. The issue's target is a listing under a second
on 5 million failures; the target is judged only at that scale.
"""

import dataclasses
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.context import Context
from bench.stats import Figure, PartResult, Row, Target
from sigma_aetl.core.decision import FieldError
from sigma_aetl.core.ids import failure_id
from sigma_aetl.core.records import FailureRecord, RawPayload
from sigma_aetl.core.taxonomy import STAGE_OF, RootCause
from sigma_aetl.stores.base import ClassQuery
from sigma_aetl.stores.sqlite import SqliteStore

KINDS = 300
PATHS = 100
CAUSES = (RootCause.MISSING_FIELD, RootCause.TYPE_MISMATCH, RootCause.CONSTRAINT_VIOLATION)
BATCH = 5000
REPEATS = 5
LIST_TARGET = Target("<=", 1000.0)
TARGET_AT = 5_000_000
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _template(kind: int) -> FailureRecord:
    """One failure of kind ``kind``: its field path and root cause say which class it is."""
    cause = CAUSES[kind % len(CAUSES)]
    path = f"items[{kind % 7}].field_{kind % PATHS}"
    error = FieldError(
        path=path,
        loc=tuple(path.split(".")),
        type=cause.value,
        root_cause=cause,
        stage=STAGE_OF[cause],
        message=f"{path}: {cause.value}",
        explanation=f"{path}: {cause.value}.",
    )
    return FailureRecord(
        failure_id="",
        contract_ref="shipment@1",
        contract="shipment",
        version=1,
        fingerprint="sha256:bench",
        root_cause=cause,
        stage=STAGE_OF[cause],
        errors=(error,),
        raw=RawPayload.of(b'{"shipment_id": "bench"}'),
        received_at=T0,
        source={"kind": "kafka", "topic": f"orders-{kind % 4}"},
        identified_by="key",
    )


def failures(count: int) -> Iterator[list[FailureRecord]]:
    """``count`` failures cycling through the kinds, in batches of BATCH, a millisecond apart."""
    templates = [_template(kind) for kind in range(KINDS)]
    for start in range(0, count, BATCH):
        yield [
            dataclasses.replace(
                templates[n % KINDS],
                failure_id=failure_id("shipment", "1", ("key", f"bench-{n}")),
                received_at=T0 + timedelta(milliseconds=n),
            )
            for n in range(start, min(count, start + BATCH))
        ]


def build(path: Path, count: int) -> float:
    """Write ``count`` failures into a new store at ``path``; return failures per second."""
    store = SqliteStore(path, synchronous="OFF", writer="process")
    began = time.perf_counter()
    try:
        for batch in failures(count):
            store.write([], batch)
    finally:
        store.close()
    return count / (time.perf_counter() - began)


def timed(path: Path, call: Callable[[SqliteStore], object], runs: int) -> Figure:
    """Milliseconds per ``call``: per run, a fresh read-only store, the median of REPEATS calls."""
    samples: list[float] = []
    for _ in range(runs):
        store = SqliteStore(path, writer="none")
        try:
            each = []
            for _ in range(REPEATS):
                began = time.perf_counter()
                call(store)
                each.append((time.perf_counter() - began) * 1000)
            samples.append(sorted(each)[len(each) // 2])
        finally:
            store.close()
    return Figure.of(samples)


def run(ctx: Context) -> PartResult:
    """Build the store, then time the class queries on it."""
    options = ctx.options
    path = options.workdir / "classes.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    rate = build(path, options.scale)
    probe = SqliteStore(path, writer="none")
    some = probe.query_classes(ClassQuery(limit=1)).items[0]
    total = probe.query_classes(ClassQuery(limit=1)).total
    probe.close()
    target = LIST_TARGET if options.scale >= TARGET_AT else None
    field = some.errors[0][0]
    queries: list[tuple[str, Callable[[SqliteStore], object], Target | None]] = [
        ("list, 50 by count (default)", lambda s: s.query_classes(ClassQuery()), target),
        ("list, 50 by last seen", lambda s: s.query_classes(ClassQuery(order="last_seen")), target),
        (
            "list, filtered by root cause and field",
            lambda s: s.query_classes(ClassQuery(root_cause=some.root_cause, field=field)),
            target,
        ),
        ("one class by id", lambda s: s.get_class(some.class_id), None),
    ]
    part = PartResult("classes", "Failure classes: listing them on a store of many failures (SQLite)")
    part.rows = [Row(f"build: {options.scale:,} failures written", Figure.of([rate]), "failures/s")]
    part.rows += [Row(name, timed(path, call, options.runs), "ms", goal) for name, call, goal in queries]
    part.notes = [
        f"{options.scale:,} failures of {total} classes ({KINDS} kinds: {PATHS} paths x {len(CAUSES)} root "
        f"causes), written through SqliteStore.write in transactions of {BATCH:,} (synchronous=OFF).",
        f"Each query: {options.runs} runs on a fresh read-only store, each the median of {REPEATS} calls; "
        f"the under-a-second target applies at {TARGET_AT:,} failures (`--scale`).",
    ]
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return part
