"""The flood guard: thresholds, the sliding window, hysteresis, re-arming and bounded memory."""

import re
from datetime import UTC, datetime, timedelta

from sigma_aetl.core.alerts import Alert
from sigma_aetl.core.flood import FloodGuard, FloodKey, Thresholds

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
KEY = FloodKey("shipment@1")


def feed(guard: FloodGuard, outcomes: str, key: FloodKey = KEY, at: datetime = T0) -> list[Alert]:
    """Tell ``guard`` one event per character (``x`` failed, ``.`` passed), all at ``at``."""
    return [alert for c in outcomes for alert in guard.observe(key, c == "x", at, "http")]


def test_a_guard_with_no_threshold_never_alerts() -> None:
    """With both thresholds off, any flood passes without an alert."""
    guard = FloodGuard(Thresholds(), "p")
    assert not guard.thresholds.enabled
    assert feed(guard, "x" * 1000) == []


def test_the_invalid_ratio_waits_for_the_minimum_events() -> None:
    """A window of failures alerts only once it holds ``min_events`` events, and then once."""
    guard = FloodGuard(Thresholds(invalid_ratio=0.5, min_events=10), "p")
    assert feed(guard, "x" * 9) == []
    (alert,) = feed(guard, "x" * 20)
    assert (alert.kind, alert.value, alert.threshold, alert.window_events) == ("invalid_ratio", 1.0, 0.5, 10)
    assert (alert.contract, alert.partition, alert.action) == ("shipment@1", None, "alerted")
    assert re.fullmatch(r"alr_[0-9a-f]{32}", alert.alert_id)


def test_a_ratio_below_the_threshold_does_not_alert() -> None:
    """One failure in three, under a threshold of 0.6, raises nothing."""
    guard = FloodGuard(Thresholds(invalid_ratio=0.6, min_events=3), "p")
    assert feed(guard, "x.." * 100) == []


def test_hysteresis_alerts_again_only_after_falling_below() -> None:
    """Above the ratio it alerts once; it alerts again only after the ratio fell below and rose again."""
    guard = FloodGuard(Thresholds(invalid_ratio=0.5, min_events=4), "p")
    assert len(feed(guard, "xxxx")) == 1
    assert feed(guard, "xxxx") == []
    assert feed(guard, "." * 20) == []
    assert len(feed(guard, "x" * 40)) == 1


def test_the_window_slides_old_events_out() -> None:
    """Failures older than the window no longer count: a later healthy second re-arms the ratio."""
    guard = FloodGuard(Thresholds(invalid_ratio=0.5, window_seconds=10, min_events=5), "p")
    assert len(feed(guard, "x" * 5)) == 1
    later = T0 + timedelta(seconds=10)
    assert feed(guard, ".", at=later) == []
    assert not guard.alerting(KEY)
    assert len(feed(guard, "x" * 5, at=later)) == 1


def test_consecutive_failures_alert_and_a_success_rearms() -> None:
    """N failures in a row alert once; a success resets the run, and the next N alert again."""
    guard = FloodGuard(Thresholds(consecutive_failures=3), "p")
    first = feed(guard, "xxxxx")
    assert [(a.kind, a.value, a.window_events) for a in first] == [("consecutive_failures", 3, 3)]
    assert feed(guard, ".xx") == []
    assert len(feed(guard, "x")) == 1


def test_both_kinds_alert_apart() -> None:
    """The ratio and the run are two kinds, each alerting once for the same flood."""
    guard = FloodGuard(Thresholds(invalid_ratio=0.9, min_events=5, consecutive_failures=2), "p")
    assert sorted(a.kind for a in feed(guard, "x" * 10)) == ["consecutive_failures", "invalid_ratio"]


def test_keys_are_measured_apart() -> None:
    """A flood on one partition says nothing about another partition of the same contract."""
    guard = FloodGuard(Thresholds(consecutive_failures=3), "p", action=lambda key: "paused")
    flooded, healthy = FloodKey("shipment@1", "events:0"), FloodKey("shipment@1", "events:1")
    for _ in range(5):
        assert feed(guard, ".", key=healthy) == []
    (alert,) = feed(guard, "xxx", key=flooded)
    assert (alert.partition, alert.action) == ("events:0", "paused")
    assert guard.alerting(flooded)
    assert not guard.alerting(healthy)


def test_rearm_forgets_a_partition() -> None:
    """After re-arming a partition, a flood still going on there alerts again."""
    guard = FloodGuard(Thresholds(consecutive_failures=2), "p")
    key = FloodKey("shipment@1", "events:0")
    assert len(feed(guard, "xx", key=key)) == 1
    assert feed(guard, "xx", key=key) == []
    guard.rearm("events:0")
    assert not guard.alerting(key)
    assert len(feed(guard, "xx", key=key)) == 1


def test_memory_is_bounded_least_recently_seen_forgotten() -> None:
    """Past ``max_keys`` the least recently seen key is forgotten first."""
    guard = FloodGuard(Thresholds(consecutive_failures=5, max_keys=2), "p")
    a, b, c = FloodKey("a@1"), FloodKey("b@1"), FloodKey("c@1")
    feed(guard, ".", key=a)
    feed(guard, ".", key=b)
    feed(guard, ".", key=a)
    feed(guard, ".", key=c)
    assert guard.known() == [a, c]


def test_the_same_events_at_the_same_times_give_the_same_alerts() -> None:
    """Two guards told the same events at the same times raise identical alerts, ids included."""
    events = "x.x" * 5 + "x" * 20

    def run() -> list[Alert]:
        guard = FloodGuard(Thresholds(invalid_ratio=0.6, min_events=10, consecutive_failures=4), "p")
        return [
            a
            for i, c in enumerate(events)
            for a in guard.observe(KEY, c == "x", T0 + timedelta(milliseconds=100 * i), "kafka")
        ]

    first = run()
    assert first
    assert first == run()
    assert len({alert.alert_id for alert in first}) == len(first)


def test_a_window_thinning_below_the_minimum_does_not_alert_again() -> None:
    """A steady flood whose window dips under ``min_events`` and back stays one alert: only a ratio back
    below the threshold re-arms it."""
    guard = FloodGuard(Thresholds(invalid_ratio=0.5, window_seconds=1, min_events=4), "p")
    seconds = [T0 + timedelta(seconds=n) for n in range(10)]
    raised = [a for n, at in enumerate(seconds) for a in feed(guard, "xxx" if n % 2 else "xxxx", at=at)]
    assert len(raised) == 1
