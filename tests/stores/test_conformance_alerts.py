"""The store conformance suite, alerts: every store keeps flood-guard alerts once and lists them alike."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sigma_aetl.core.alerts import Alert
from sigma_aetl.errors import StoreError
from sigma_aetl.stores import Store, open_store

T0 = datetime(2024, 5, 1, 12, 0, 0, 123000, tzinfo=UTC)


def alert(n: int, **changes: object) -> Alert:
    """An alert raised at T0 plus ``n`` seconds, its id ``alr_`` and ``n`` in 32 hex digits."""
    values: dict[str, object] = {
        "alert_id": f"alr_{n:032x}",
        "kind": "invalid_ratio",
        "contract": "shipment@1",
        "source": "http",
        "value": 0.75,
        "threshold": 0.5,
        "window_events": 200,
        "action": "alerted",
        "raised_at": T0 + timedelta(seconds=n),
        "process": "host:1",
        **changes,
    }
    return Alert.model_validate(values)


def test_a_new_store_lists_no_alert(store: Store) -> None:
    """A store whose guard never tripped lists no alert, with or without ``since``."""
    assert store.list_alerts(None, 10) == []
    assert store.list_alerts(T0, 10) == []


def test_alerts_are_listed_newest_first_and_whole(store: Store) -> None:
    """Saved alerts come back newest first, every field as saved (a partition's included)."""
    saved = [alert(1), alert(3, kind="consecutive_failures", partition="events:0", source="kafka"), alert(2)]
    for each in saved:
        store.save_alert(each)
    assert store.list_alerts(None, 10) == [saved[1], saved[2], saved[0]]


def test_saving_an_alert_twice_stores_it_once(store: Store) -> None:
    """An alert saved again (a retried save) is stored once."""
    store.save_alert(alert(1))
    store.save_alert(alert(1))
    assert [found.alert_id for found in store.list_alerts(None, 10)] == [alert(1).alert_id]


def test_since_and_limit_bound_the_list(store: Store) -> None:
    """``since`` keeps the alerts raised at or after it; ``limit`` the newest that many."""
    for n in range(5):
        store.save_alert(alert(n))
    assert [a.alert_id for a in store.list_alerts(T0 + timedelta(seconds=3), 10)] == [
        alert(4).alert_id,
        alert(3).alert_id,
    ]
    assert [a.alert_id for a in store.list_alerts(None, 2)] == [alert(4).alert_id, alert(3).alert_id]


def test_a_store_opened_read_only_refuses_an_alert(store_url: str, store: Store) -> None:
    """A store opened read-only raises StoreError on a save and stores nothing."""
    reader = open_store(store_url, read_only=True)
    try:
        with pytest.raises(StoreError):
            reader.save_alert(alert(1))
    finally:
        reader.close()
    assert store.list_alerts(None, 10) == []


def test_alerts_outlive_the_store_handle(tmp_path: Path) -> None:
    """An alert saved through one handle is listed by another opened later on the same file."""
    url = f"sqlite:///{tmp_path}/alerts.db"
    first = open_store(url)
    first.save_alert(alert(7))
    first.close()
    second = open_store(url)
    try:
        assert second.list_alerts(None, 1) == [alert(7)]
    finally:
        second.close()
