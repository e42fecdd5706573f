"""What each dashboard page reads from the store and the registry: plain functions, run in a thread.

Each returns the template's context (None: the page's subject does not exist, a 404). They only read: the
store's queries, classes, analytics, alerts, advisories and resolutions; the diagnosis as
``GET /v1/failure-classes/{id}`` answers it (``ingest/diagnosis.py``); the contract diff behind
``sigma-aetl contracts diff``. Records are shown as the JSON API shows them to the same key: without
``read:raw`` raw payloads, transport headers and client addresses are masked (``http/masking.py``).

The analytics (traffic, failures per class, alerts) come from stores that keep roll-ups; a store that does
not answer them (``NotImplementedError``) leaves those panels saying so, and the page still renders.
"""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sigma_aetl.contracts.evolution.diff import diff_definitions
from sigma_aetl.contracts.registry import Registry
from sigma_aetl.contracts.summary import ContractSummary, summaries
from sigma_aetl.core import serial
from sigma_aetl.core.advisories import AdvisoryTarget
from sigma_aetl.core.analytics import (
    BUCKET_SECONDS,
    MAX_GROUPS,
    OTHER,
    AnalyticsWindow,
    Bucket,
    FailureAnalyticsQuery,
    ProducerTraffic,
    TrafficAnalytics,
    bucket_floor,
    ratio,
)
from sigma_aetl.core.classes import CLASS_ID, FailureClass, class_id_of
from sigma_aetl.core.records import FailureRecord
from sigma_aetl.http.masking import MASKED_CLIENT, masked_failure
from sigma_aetl.http.routes.classes import masked_class
from sigma_aetl.http.routes.diagnosis import masked
from sigma_aetl.http.ui import charts
from sigma_aetl.http.ui.params import ListParams, Window
from sigma_aetl.http.ui.payload import payload_view
from sigma_aetl.ingest.diagnosis import diagnose
from sigma_aetl.ingest.gateway import Gateway
from sigma_aetl.stores.base import ClassQuery, FailureFilter, FailureQuery, PageBudget, Store

T = TypeVar("T")
PAGE_SIZE = 50
"""Rows on one list page."""
MAX_SCANNED = 20_000
"""The most failures one page of a class's failures reads (``?class_id=``): deeper pages say to use
``sigma-aetl failures`` or the API instead."""
TOP_CLASSES = 10
"""Failure classes on the overview."""
TOP_PRODUCERS = 10
"""Producers on the overview."""
RECENT_ALERTS = 20
"""Alerts on the overview."""
WINDOWS: dict[Window, tuple[timedelta, Bucket]] = {
    "1h": (timedelta(hours=1), "minute"),
    "24h": (timedelta(hours=24), "hour"),
    "7d": (timedelta(days=7), "hour"),
}
"""Each overview window: how far back, in buckets of what width."""


def window_of(name: Window, now: datetime, contract: str | None = None) -> AnalyticsWindow:
    """The window ``name`` ending with the bucket that holds ``now`` (so the current bucket is shown)."""
    span, bucket = WINDOWS[name]
    until = bucket_floor(now, bucket) + timedelta(seconds=BUCKET_SECONDS[bucket])
    return AnalyticsWindow(since=until - span, until=until, bucket=bucket, contract=contract)


def optional(read: Callable[[], T]) -> T | None:
    """``read()``, or None when the store does not answer it (see the module docstring)."""
    try:
        return read()
    except NotImplementedError:
        return None


def shown_failure(failure: FailureRecord, reveal: bool) -> dict[str, Any]:
    """The failure as JSON values, masked unless ``reveal``."""
    doc: dict[str, Any] = serial.jsonable(failure) if reveal else masked_failure(failure)
    return doc


def shown_class(found: FailureClass, reveal: bool) -> dict[str, Any]:
    """The class as JSON values, its client producers counted together unless ``reveal``."""
    doc: dict[str, Any] = serial.jsonable(found) if reveal else masked_class(found)
    return doc


def overview(store: Store, name: Window, now: datetime, reveal: bool) -> dict[str, Any]:
    """The overview: traffic per version, the classes seen in the window with most failures (each with a
    sparkline over it), recent alerts, the store's totals."""
    window = window_of(name, now)
    traffic = optional(lambda: store.traffic_analytics(window))
    query = FailureAnalyticsQuery(**window.model_dump(), group_by="class", limit=MAX_GROUPS)
    per_class = optional(lambda: store.failure_analytics(query))
    alerts = optional(lambda: store.list_alerts(window.since, RECENT_ALERTS))
    classes = store.query_classes(ClassQuery(since=window.since, limit=TOP_CLASSES))  # seen in the window
    return {
        "window": name,
        "windows": list(WINDOWS),
        "bucket": window.bucket,
        "since": window.since,
        "until": window.until,
        "traffic": traffic,
        "charts": _traffic_charts(traffic),
        "producers": shown_producers(traffic, reveal),
        "sparklines": {} if per_class is None else charts.class_sparklines(per_class),
        "every_class_counted": per_class is not None and all(s.group != OTHER for s in per_class.series),
        "alerts": alerts,
        "classes": [shown_class(found, reveal) for found in classes.items],
        "classes_total": classes.total,
        "stats": store.stats(),
    }


def shown_producers(traffic: TrafficAnalytics | None, reveal: bool) -> list[ProducerTraffic]:
    """The traffic's producers, most events first; without ``reveal``, every ``client:`` label (a client
    address) counted together as ``client:(masked)``, as the JSON API counts a class's producers."""
    if traffic is None:
        return []
    if reveal:
        return traffic.producers[:TOP_PRODUCERS]
    summed: dict[str, tuple[int, int]] = {}
    for row in traffic.producers:
        label = MASKED_CLIENT if row.producer.startswith("client:") else row.producer
        accepted, failed = summed.get(label, (0, 0))
        summed[label] = (accepted + row.accepted, failed + row.failed)
    rows = [
        ProducerTraffic(producer=k, accepted=a, failed=f, acceptance_ratio=ratio(a, f))
        for k, (a, f) in summed.items()
    ]
    return sorted(rows, key=lambda row: (-(row.accepted + row.failed), row.producer))[:TOP_PRODUCERS]


def _traffic_charts(traffic: TrafficAnalytics | None) -> dict[str, str] | None:
    if traffic is None:
        return None
    return {"events": charts.traffic_chart(traffic), "acceptance": charts.acceptance_chart(traffic)}


def class_list(store: Store, params: ListParams, reveal: bool) -> dict[str, Any]:
    """A page of failure classes, most failures first, filtered."""
    query = ClassQuery(
        contract=params.contract,
        version=params.version,
        root_cause=params.root_cause,
        limit=PAGE_SIZE,
        offset=params.offset,
    )
    page = store.query_classes(query)
    return {
        "classes": [shown_class(found, reveal) for found in page.items],
        "total": page.total,
        "params": params,
        "offset": page.offset,
        "next_offset": page.next_offset,
        "previous_offset": _previous(page.offset),
    }


def class_detail(gateway: Gateway, class_id: str, reveal: bool) -> dict[str, Any] | None:
    """One class: its diagnosis, advisories and samples; None when no class has that id."""
    store = gateway.store
    found = store.get_class(class_id) if CLASS_ID.fullmatch(class_id) else None
    if found is None:
        return None
    diagnosis = diagnose(store, gateway.registry, class_id, limits=gateway.settings.limits)
    if diagnosis is not None and not reveal:
        diagnosis = masked(diagnosis)
    samples = [failure for failure in map(store.get_failure, found.samples) if failure is not None]
    return {
        "cls": shown_class(found, reveal),
        "diagnosis": diagnosis,
        "advisories": store.list_advisories(AdvisoryTarget(kind="class", id=class_id)),
        "job": store.get_advisory_job(AdvisoryTarget(kind="class", id=class_id)),
        "samples": [shown_failure(failure, reveal) for failure in samples],
    }


def failure_list(gateway: Gateway, params: ListParams) -> dict[str, Any]:
    """A page of failures, newest first (of a class: oldest first), filtered."""
    settings = gateway.settings
    budget = PageBudget(max_bytes=settings.max_page_bytes, max_inline_raw=settings.max_inline_raw_bytes)
    common = {
        "params": params,
        "offset": params.offset,
        "previous_offset": _previous(params.offset),
        "scanned": MAX_SCANNED,
    }
    if params.class_id is not None:
        return {**common, **_class_failures(gateway.store, params)}
    query = FailureQuery(
        contract=params.contract,
        version=params.version,
        root_cause=params.root_cause,
        limit=PAGE_SIZE,
        offset=params.offset,
    )
    page = gateway.store.query_failures(query, budget)
    return {
        **common,
        "failures": page.items,
        "total": page.total,
        "next_offset": page.next_offset,
        "stopped": False,
    }


def _class_failures(store: Store, params: ListParams) -> dict[str, Any]:
    """The failures of one class, oldest first: those the class's contract and root cause select, each
    checked for its class (computed from the failure, as a replay selects them), read until the page is
    full — so a page costs the failures before it, at most :data:`MAX_SCANNED` (measured: 10,000
    failures read in 0.4 s), not the whole store."""
    found = store.get_class(params.class_id or "")
    if found is None:
        return {"failures": [], "total": 0, "next_offset": None, "stopped": False}
    which = FailureFilter(contract=found.contract, version=found.version, root_cause=found.root_cause)
    matched: list[FailureRecord] = []
    read = 0
    for batch in store.iter_failures(which, batch_size=PAGE_SIZE * 4):
        matched.extend(failure for failure in batch if class_id_of(failure) == found.class_id)
        read += len(batch)
        if len(matched) > params.offset + PAGE_SIZE or read >= MAX_SCANNED:
            break
    more = len(matched) > params.offset + PAGE_SIZE
    return {
        "failures": matched[params.offset : params.offset + PAGE_SIZE],
        "total": found.count,
        "next_offset": params.offset + PAGE_SIZE if more else None,
        "stopped": not more and read >= MAX_SCANNED,
    }


def failure_detail(store: Store, failure_id: str, reveal: bool) -> dict[str, Any] | None:
    """One failure record whole (masked without read:raw), its class and resolutions; None: no such id."""
    failure = store.get_failure(failure_id)
    if failure is None:
        return None
    return {
        "failure": shown_failure(failure, reveal),
        "payload": payload_view(failure.raw, reveal),
        "class_id": class_id_of(failure),
        "resolutions": store.resolutions(failure_id),
    }


def contract_list(registry: Registry) -> dict[str, Any]:
    """Every loaded contract version, by name then version."""
    by_name: dict[str, list[ContractSummary]] = {}
    for summary in summaries(registry):
        by_name.setdefault(summary.name, []).append(summary)
    return {"contracts": by_name}


def contract_detail(
    registry: Registry, store: Store, name: str, versions: tuple[int | None, int | None], now: datetime
) -> dict[str, Any] | None:
    """A contract's versions, the diff between two of them, and its traffic per version over a day;
    None when no version of ``name`` is loaded. Raises KeyError naming a version that is not loaded."""
    listed = [summary for summary in summaries(registry) if summary.name == name]
    if not listed:
        return None
    old, new = _pair([summary.version for summary in listed], versions)
    window = window_of("24h", now, contract=name)
    traffic = optional(lambda: store.traffic_analytics(window))
    return {
        "name": name,
        "versions": listed,
        "old": old,
        "new": new,
        "changes": _changes(registry, name, old, new),
        "traffic": traffic,
        "bars": None if traffic is None else charts.version_bars(traffic),
        "events": None if traffic is None else charts.traffic_chart(traffic),
    }


def _pair(known: list[int], asked: tuple[int | None, int | None]) -> tuple[int | None, int | None]:
    """The two versions to compare: those asked for (each must be loaded; one left out is the last or the
    one before it), else the last two; (None, None) when there is only one."""
    for version in asked:
        if version is not None and version not in known:
            raise KeyError(version)
    if len(known) < 2:
        return None, None
    old, new = asked
    return (known[-2] if old is None else old), (known[-1] if new is None else new)


def _changes(registry: Registry, name: str, old: int | None, new: int | None) -> list[Any] | None:
    before = registry.get(name, old) if old is not None else None
    after = registry.get(name, new) if new is not None else None
    if before is None or after is None:
        return None
    return diff_definitions(before.definition(), after.definition())


def _previous(offset: int) -> int | None:
    return None if offset == 0 else max(0, offset - PAGE_SIZE)
