"""Windows: buckets floored and counted in UTC; a window too large is refused without building it."""

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from sigma_aetl.core.analytics import AnalyticsWindow, bucket_count, bucket_starts

T0 = datetime(2024, 5, 1, 12, 30, 15, tzinfo=UTC)


def test_buckets_start_on_the_utc_bucket_holding_since() -> None:
    """The first bucket is the one holding ``since`` (in UTC, whatever its offset); the last starts before
    ``until``; the count matches the starts."""
    since = T0.astimezone(timezone(timedelta(hours=2)))
    starts = bucket_starts(since, T0 + timedelta(hours=2), "hour")
    assert starts == [datetime(2024, 5, 1, hour, tzinfo=UTC) for hour in (12, 13, 14)]
    assert bucket_count(since, T0 + timedelta(hours=2), "hour") == 3
    assert bucket_starts(T0, T0 + timedelta(seconds=1), "day") == [datetime(2024, 5, 1, tzinfo=UTC)]


def test_a_window_of_too_many_buckets_is_refused_at_once() -> None:
    """Eight thousand years of minutes is refused in under a second (the buckets are counted, not built);
    exactly 2,000 buckets are accepted."""
    began = time.perf_counter()
    with pytest.raises(ValidationError, match="more than 2000 buckets"):
        AnalyticsWindow(
            since=datetime(1000, 1, 1, tzinfo=UTC), until=datetime(9000, 1, 1, tzinfo=UTC), bucket="minute"
        )
    assert time.perf_counter() - began < 1.0
    midnight = datetime(2024, 5, 1, tzinfo=UTC)
    window = AnalyticsWindow(since=midnight, until=midnight + timedelta(days=2000), bucket="day")
    assert len(window.starts()) == 2000
