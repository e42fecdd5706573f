"""Failure analytics over time: the windows, buckets and series the stores answer (docs/observability.md).

Counts are of what is stored, by each item's ``received_at``: accepted records and distinct failure
records (a duplicate or a replayed retry adds nothing, as it adds no row). A bucket is a UTC minute, hour
or day; a window is ``[since, until)`` cut into whole buckets, at most ``MAX_BUCKETS`` of them, so an
answer's size is bounded whatever the store holds. The stores keep per-minute roll-ups in the write's own
transaction, so an answer costs the same with 100 stored events or 10 million.
"""

from datetime import UTC, datetime, timedelta
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

Bucket = Literal["minute", "hour", "day"]
FailureGroup = Literal["root_cause", "field", "version", "producer", "class"]
BUCKET_SECONDS: dict[Bucket, int] = {"minute": 60, "hour": 3600, "day": 86400}
MAX_BUCKETS = 2000
"""Most buckets one answer holds (a week of minutes is 10,080: ask for hours instead)."""
MAX_GROUPS = 100
"""Most groups one answer names; the rest are summed into the group ``other``."""
OTHER = "other"
"""The group that sums every group beyond the answer's ``limit``."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def bucket_floor(moment: datetime, bucket: Bucket) -> datetime:
    """The start of the UTC bucket holding ``moment`` (a naive moment is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    step = timedelta(seconds=BUCKET_SECONDS[bucket])
    return _EPOCH + ((moment.astimezone(UTC) - _EPOCH) // step) * step


def bucket_count(since: datetime, until: datetime, bucket: Bucket) -> int:
    """How many buckets :func:`bucket_starts` holds, without building them (a window may be huge)."""
    step = timedelta(seconds=BUCKET_SECONDS[bucket])
    return max(0, -(-(until - bucket_floor(since, bucket)) // step))


def bucket_starts(since: datetime, until: datetime, bucket: Bucket) -> list[datetime]:
    """Every bucket start from the one holding ``since`` up to (not including) ``until``."""
    step = timedelta(seconds=BUCKET_SECONDS[bucket])
    first = bucket_floor(since, bucket)
    return [first + step * n for n in range(bucket_count(since, until, bucket))]


class AnalyticsWindow(BaseModel):
    """A time window cut into buckets, optionally narrowed to one contract (and version)."""

    model_config = ConfigDict(frozen=True)

    since: datetime = Field(description="Start of the window (inclusive), floored to its bucket.")
    until: datetime = Field(description="End of the window (exclusive).")
    bucket: Bucket = Field(default="hour", description="Width of one bucket.")
    contract: str | None = Field(default=None, description="Only this contract (as addressed).")
    version: int | None = Field(default=None, ge=1, description="Only this version of the contract.")

    @model_validator(mode="after")
    def _bounded(self) -> Self:
        if self.until <= self.since:
            raise ValueError("until must be after since")
        if bucket_count(self.since, self.until, self.bucket) > MAX_BUCKETS:
            raise ValueError(f"the window holds more than {MAX_BUCKETS} buckets: choose a wider bucket")
        return self

    def starts(self) -> list[datetime]:
        """The window's bucket starts, oldest first."""
        return bucket_starts(self.since, self.until, self.bucket)


class FailureAnalyticsQuery(AnalyticsWindow):
    """Failures per bucket, grouped by one dimension."""

    group_by: FailureGroup = Field(default="root_cause", description="What one series counts.")
    limit: int = Field(
        default=10, ge=1, le=MAX_GROUPS, description="Groups named (largest first); the rest are `other`."
    )


class Series(BaseModel):
    """One group's counts, one per bucket of the answer (aligned with its ``buckets``)."""

    group: str = Field(description="The group's value (a root cause, `name@version`, a field path, ...).")
    total: int
    counts: list[int]


class FailureAnalytics(BaseModel):
    """Failures per bucket and group over a window."""

    group_by: FailureGroup
    bucket: Bucket
    buckets: list[datetime] = Field(description="Bucket starts, oldest first.")
    series: list[Series] = Field(description="Largest total first; `other` (if any) last.")
    total: int = Field(description="Failures in the window (for `field`: failed fields).")


class VersionTraffic(BaseModel):
    """Accepted and failed events of one contract version per bucket (failures as addressed)."""

    contract: str
    version: int
    accepted: list[int]
    failed: list[int]
    accepted_total: int
    failed_total: int
    acceptance_ratio: float | None = Field(description="accepted / (accepted + failed); null with none.")
    last_seen: datetime | None = Field(description="Start of the last minute with traffic in the window.")


class ProducerTraffic(BaseModel):
    """What one producer sent in the window: accepted and failed, and its acceptance ratio."""

    producer: str = Field(description="A producer label, as failure classes count them.")
    accepted: int
    failed: int
    acceptance_ratio: float | None


class TrafficAnalytics(BaseModel):
    """Accepted vs failed per contract version over time, and per producer."""

    bucket: Bucket
    buckets: list[datetime]
    versions: list[VersionTraffic] = Field(description="By contract, then version.")
    producers: list[ProducerTraffic] = Field(description="Most events first, at most `MAX_GROUPS`.")


class StaleVersion(BaseModel):
    """A version still receiving traffic in the window although a newer one is released."""

    contract: str
    version: int
    newest_released: int
    events: int = Field(description="Accepted and failed events of this version in the window.")
    last_seen: datetime | None


def ratio(accepted: int, failed: int) -> float | None:
    """accepted / (accepted + failed), rounded to 6 places; None when there were no events."""
    total = accepted + failed
    return None if total == 0 else round(accepted / total, 6)


def stale_versions(traffic: TrafficAnalytics, released: dict[str, list[int]]) -> list[StaleVersion]:
    """The versions with traffic in ``traffic`` below the newest released version of their contract."""
    stale = []
    for row in traffic.versions:
        newest = max(released.get(row.contract, []), default=None)
        events = row.accepted_total + row.failed_total
        if newest is not None and row.version < newest and events:
            stale.append(
                StaleVersion(
                    contract=row.contract,
                    version=row.version,
                    newest_released=newest,
                    events=events,
                    last_seen=row.last_seen,
                )
            )
    return stale
