"""Answers to the analytics queries, assembled from roll-up rows the same way for every store.

A store reads the rows of its roll-ups (``stores/rollups.py``) in a window — counts per bucket start and
class, contract version or producer — and hands them here: the classes are turned into the query's
groups (root cause, field, contract version as addressed, class id), the groups ranked by total (ties by
name), the first ``limit`` named and the rest summed into ``other``. The window is ``[since floored to
its bucket, until)`` on whole minutes: a minute counts when its start is before ``until``.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from sigma_aetl.core.analytics import (
    BUCKET_SECONDS,
    MAX_GROUPS,
    OTHER,
    AnalyticsWindow,
    FailureAnalytics,
    FailureAnalyticsQuery,
    ProducerTraffic,
    Series,
    TrafficAnalytics,
    VersionTraffic,
    ratio,
)
from sigma_aetl.stores.base import from_micros, micros
from sigma_aetl.stores.classes import fields_of
from sigma_aetl.stores.rollups import HOUR_US, addressed

Cell = tuple[int, str, int]
"""(bucket start µs, group, count)."""


@dataclass(frozen=True, slots=True)
class ClassInfo:
    """What grouping needs of one class: its contract as addressed, root cause and field paths."""

    contract_ref: str
    root_cause: str
    fields: tuple[str, ...]

    @classmethod
    def of(cls, contract_ref: str, root_cause: str, errors_json: str) -> "ClassInfo":
        """From a class row's or document's columns (``errors`` as the class stores them)."""
        return cls(contract_ref, root_cause, tuple(fields_of(errors_json)))


def span(window: AnalyticsWindow) -> tuple[int, int]:
    """The minutes a window reads: [its first bucket's start, until) in µs."""
    return micros(window.starts()[0]), micros(window.until)


def step_us(window: AnalyticsWindow) -> int:
    """One bucket of ``window`` in µs."""
    return BUCKET_SECONDS[window.bucket] * 1_000_000


def class_spans(query: AnalyticsWindow) -> list[tuple[Literal["hour", "minute"], int, int]]:
    """Where a window's failures per class are read: whole hours from the hourly roll-up, and the minutes
    of a last, partial hour (``until`` inside it) from the minute roll-up; minute buckets, all by minute.
    An hour or day bucket starts on an hour, so the two parts meet exactly."""
    start, end = span(query)
    if query.bucket == "minute":
        return [("minute", start, end)]
    whole = end - end % HOUR_US
    parts: list[tuple[Literal["hour", "minute"], int, int]] = []
    if whole > start:
        parts.append(("hour", start, whole))
    if end > max(start, whole):
        parts.append(("minute", max(start, whole), end))
    return parts


def bucket_us(minute: int, step: int) -> int:
    """The bucket start (µs) holding a minute (buckets are aligned on the epoch, in UTC)."""
    return minute - minute % step


def matches(window: AnalyticsWindow, contract_ref: str) -> bool:
    """Whether a failure addressed to ``contract_ref`` is in the window's contract and version filters
    (the same filters the traffic and producer roll-ups apply to their columns)."""
    if window.contract is None and window.version is None:
        return True
    found = addressed(contract_ref)
    if found is None:  # counted under no version: only a contract filter alone can keep it
        return window.version is None and contract_ref.partition("@")[0] == window.contract
    return window.contract in (None, found[0]) and window.version in (None, found[1])


def class_cells(
    query: FailureAnalyticsQuery, rows: Iterable[tuple[int, str, int]], info: Mapping[str, ClassInfo]
) -> list[Cell]:
    """(bucket µs, class id, failures) rows as the query's groups (a class unknown to ``info`` is skipped:
    it went with a purge)."""
    cells: list[Cell] = []
    for start, class_id, n in rows:
        found = info.get(class_id)
        if found is None or not matches(query, found.contract_ref):
            continue
        if query.group_by == "field":
            cells.extend((start, path, n) for path in found.fields)
        else:
            cells.append((start, _group(query, class_id, found), n))
    return cells


def _group(query: FailureAnalyticsQuery, class_id: str, found: ClassInfo) -> str:
    if query.group_by == "root_cause":
        return found.root_cause
    if query.group_by == "version":
        return found.contract_ref
    return class_id


def failure_answer(query: FailureAnalyticsQuery, cells: Iterable[Cell]) -> FailureAnalytics:
    """The answer: one series per group, the largest ``limit`` named, the rest in ``other``."""
    starts = query.starts()
    index = {micros(start): n for n, start in enumerate(starts)}
    counts: dict[str, list[int]] = {}
    for start, group, n in cells:
        slot = index.get(start)
        if slot is None or not n:
            continue
        row = counts.get(group)
        if row is None:
            row = counts[group] = [0] * len(starts)
        row[slot] += n
    series = sorted((Series(group=g, total=sum(c), counts=c) for g, c in counts.items()), key=_rank)
    named, rest = series[: query.limit], series[query.limit :]
    if rest:
        summed = [sum(column) for column in zip(*(s.counts for s in rest), strict=True)]
        named.append(Series(group=OTHER, total=sum(summed), counts=summed))
    return FailureAnalytics(
        group_by=query.group_by,
        bucket=query.bucket,
        buckets=starts,
        series=named,
        total=sum(s.total for s in named),
    )


def _rank(series: Series) -> tuple[int, str]:
    return -series.total, series.group


TrafficRow = tuple[int, str, int, int, int, int]
"""(bucket start µs, contract, version, accepted, failed, last minute µs with traffic)."""


def traffic_answer(
    window: AnalyticsWindow, rows: Iterable[TrafficRow], producers: Iterable[tuple[str, int, int]]
) -> TrafficAnalytics:
    """The answer from per-bucket version rows and per-producer totals (accepted, failed)."""
    starts = window.starts()
    index = {micros(start): n for n, start in enumerate(starts)}
    versions: dict[tuple[str, int], tuple[list[int], list[int], list[int]]] = {}
    for start, contract, version, accepted, failed, last in rows:
        slot = index.get(start)
        if slot is None:
            continue
        found = versions.get((contract, version))
        if found is None:
            found = versions[(contract, version)] = ([0] * len(starts), [0] * len(starts), [0])
        found[0][slot] += accepted
        found[1][slot] += failed
        found[2][0] = max(found[2][0], last)
    return TrafficAnalytics(
        bucket=window.bucket,
        buckets=starts,
        versions=[_version(key, *found) for key, found in sorted(versions.items())],
        producers=_producers(producers),
    )


def _version(key: tuple[str, int], accepted: list[int], failed: list[int], last: list[int]) -> VersionTraffic:
    total_a, total_f = sum(accepted), sum(failed)
    return VersionTraffic(
        contract=key[0],
        version=key[1],
        accepted=accepted,
        failed=failed,
        accepted_total=total_a,
        failed_total=total_f,
        acceptance_ratio=ratio(total_a, total_f),
        last_seen=from_micros(last[0]) if total_a + total_f else None,
    )


def _producers(rows: Iterable[tuple[str, int, int]]) -> list[ProducerTraffic]:
    summed: dict[str, list[int]] = {}
    for producer, accepted, failed in rows:
        found = summed.setdefault(producer, [0, 0])
        found[0] += accepted
        found[1] += failed
    ranked = sorted(summed.items(), key=lambda item: (-(item[1][0] + item[1][1]), item[0]))
    return [
        ProducerTraffic(producer=p, accepted=a, failed=f, acceptance_ratio=ratio(a, f))
        for p, (a, f) in ranked[:MAX_GROUPS]
        if a + f
    ]
