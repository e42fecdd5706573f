"""The paused partitions shared by the worker and its admin endpoints, without a broker."""

from datetime import UTC, datetime

from sigma_aetl.core.alerts import Alert
from sigma_aetl.kafka.pauses import Pauses, parse_partition, partition_name

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
ALERT = Alert(
    alert_id=f"alr_{'a' * 32}",
    kind="consecutive_failures",
    contract="shipment@1",
    partition="events:0",
    source="kafka",
    value=10,
    threshold=10,
    window_events=10,
    action="paused",
    raised_at=T0,
    process="w:1",
)


def test_partition_names_round_trip() -> None:
    """``topic:partition`` is parsed back to the pair, the last colon splitting them."""
    assert parse_partition(partition_name(("events", 3))) == ("events", 3)
    assert partition_name(("events", 0)) == ALERT.partition


def test_states_list_every_assigned_partition_with_why_paused() -> None:
    """Each assigned partition is listed; a paused one with its alert, reason and time."""
    pauses = Pauses()
    pauses.assigned({("events", 1), ("events", 0)})
    pauses.paused(("events", 0), ALERT)
    shown = [state.shown() for state in pauses.states()]
    assert [(item["partition"], item["paused"]) for item in shown] == [(0, True), (1, False)]
    assert shown[0]["alert_id"] == ALERT.alert_id
    assert shown[0]["reason"] == "consecutive_failures: shipment@1 failures in a row 10 reached 10"
    assert shown[0]["paused_at"] == T0.isoformat()
    assert shown[1]["reason"] is None


def test_a_resume_is_asked_then_carried_out_by_the_worker() -> None:
    """A resume asked for a paused partition is queued for the worker; once done, the asker is told."""
    pauses = Pauses()
    pauses.assigned({("events", 0), ("events", 1)})
    pauses.paused(("events", 0), ALERT)
    assert pauses.ask_resume(("events", 1)) is None
    done = pauses.ask_resume(("events", 0))
    assert done is not None
    assert not done.is_set()
    assert pauses.take_resumes() == [("events", 0)]
    pauses.resumed(("events", 0))
    assert done.is_set()
    assert not pauses.is_paused(("events", 0))
    assert pauses.take_resumes() == []


def test_a_released_partition_is_no_longer_paused_nor_listed() -> None:
    """A revoked partition forgets its pause, answers a pending resume, and is handed to the worker once."""
    pauses = Pauses()
    pauses.assigned({("events", 0)})
    pauses.paused(("events", 0), ALERT)
    done = pauses.ask_resume(("events", 0))
    pauses.released({("events", 0)})
    assert done is not None
    assert done.is_set()
    assert pauses.states() == []
    assert not pauses.is_assigned(("events", 0))
    assert pauses.take_released() == [("events", 0)]
    assert pauses.take_released() == []


def test_a_partition_released_while_paused_is_resumed_when_it_comes_back() -> None:
    """Revoked while paused, then assigned again: it is handed to the worker to resume, once; a partition
    released unpaused is not."""
    pauses = Pauses()
    pauses.assigned({("events", 0), ("events", 1)})
    pauses.paused(("events", 0), ALERT)
    pauses.released({("events", 0), ("events", 1)})
    assert pauses.take_returned() == []
    pauses.assigned({("events", 0), ("events", 1)})
    assert pauses.take_returned() == [("events", 0)]
    assert pauses.take_returned() == []
    assert not pauses.is_paused(("events", 0))
