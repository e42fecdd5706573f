"""The Kafka part's rows: a run that stored every event says so; one that stopped short says how short."""

from bench.kafka import SQLITE_TARGET, Drained, _rows


def drained(stored: int) -> Drained:
    """A run at 10,000 events/s that stored ``stored`` events."""
    return Drained(rate=10_000.0, end_to_end=9_000.0, stored=stored, peak_rss_mib=100.0)


def test_every_event_stored_is_reported_as_exactly_once() -> None:
    """Runs that stored every event get the exactly-once note and the median rate."""
    rows = _rows("SQLite", [drained(200), drained(200), drained(200)], 200, SQLITE_TARGET)
    assert rows[0].note == "exactly once: every event stored once"
    assert rows[0].figure is not None
    assert rows[0].figure.median == 10_000.0


def test_a_run_that_stopped_short_is_flagged_with_its_count() -> None:
    """A run whose store's count stalled names what it stored of what was expected."""
    rows = _rows("SQLite", [drained(200), drained(150)], 200, SQLITE_TARGET)
    assert rows[0].note == "⚠ stored 150 of 200 (its count stopped moving for 60 s)"
