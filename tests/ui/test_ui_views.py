"""The dashboard's pure parts: its windows, how a raw payload is shown, and its query parameters."""

from datetime import UTC, datetime, timedelta

import pytest

from sigma_aetl.core.analytics import ProducerTraffic, TrafficAnalytics, ratio
from sigma_aetl.core.records import RawPayload
from sigma_aetl.http.ui import payload
from sigma_aetl.http.ui.params import BadParameters, DiffParams, ListParams, OverviewParams, parse
from sigma_aetl.http.ui.payload import hex_dump, payload_view
from sigma_aetl.http.ui.views import shown_producers, window_of

NOW = datetime(2026, 3, 4, 10, 17, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "buckets", "bucket"), [("1h", 60, "minute"), ("24h", 24, "hour"), ("7d", 168, "hour")]
)
def test_a_window_ends_with_the_bucket_holding_now(name: str, buckets: int, bucket: str) -> None:
    """Each overview window is whole buckets, the last one holding now, so the current bucket is shown."""
    window = window_of(name, NOW)  # type: ignore[arg-type]
    starts = window.starts()
    assert (len(starts), window.bucket) == (buckets, bucket)
    assert starts[-1] <= NOW < window.until
    assert window.until - starts[-1] == (timedelta(minutes=1) if bucket == "minute" else timedelta(hours=1))


def test_utf8_is_shown_as_text_and_other_bytes_as_hex() -> None:
    """A UTF-8 payload is its text as stored; other bytes a hex dump with offsets and printable ASCII."""
    text = payload_view(RawPayload.of(b'{"a": "<b>"}'), reveal=True)
    assert (text.kind, text.text, text.cut) == ("text", '{"a": "<b>"}', False)
    raw = bytes(range(0xF0, 0x100)) + b"AB"
    shown = payload_view(RawPayload.of(raw), reveal=True)
    assert shown.kind == "hex"
    assert shown.text.splitlines() == [
        "00000000  f0 f1 f2 f3 f4 f5 f6 f7 f8 f9 fa fb fc fd fe ff  |................|",
        "00000010  41 42                                            |AB|",
    ]


def test_without_reveal_nothing_of_the_bytes_is_shown() -> None:
    """Masked, the view holds no byte of the payload: only its size and hash."""
    raw = RawPayload.of(b'{"secret": 1}')
    shown = payload_view(raw, reveal=False)
    assert (shown.kind, shown.text, shown.size, shown.sha256) == ("masked", "", raw.size, raw.sha256)


def test_what_is_shown_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the bounds a prefix is shown, and the view says so."""
    monkeypatch.setattr(payload, "MAX_TEXT", 4)
    monkeypatch.setattr(payload, "MAX_HEX", 16)
    text = payload_view(RawPayload.of(b"abcdefgh"), reveal=True)
    assert (text.text, text.cut) == ("abcd", True)
    dump = payload_view(RawPayload.of(b"\xff" * 40), reveal=True)
    assert (len(dump.text.splitlines()), dump.cut) == (1, True)
    assert hex_dump(b"") == ""


def test_empty_parameters_are_unset_and_unknown_ones_ignored() -> None:
    """``?contract=&root_cause=`` (as a link may carry) sets nothing; a parameter no page knows is ignored."""
    params = parse(ListParams, {"contract": "", "root_cause": "", "offset": "50", "utm": "x"})
    assert (params.contract, params.root_cause, params.offset) == (None, None, 50)
    assert parse(OverviewParams, {}).window == "24h"
    diff = parse(DiffParams, {"from": "1", "to": "2"})
    assert (diff.old, diff.new) == (1, 2)


def test_a_bad_parameter_names_itself() -> None:
    """Every bad parameter is named, with why, in the error."""
    with pytest.raises(BadParameters) as raised:
        parse(ListParams, {"offset": "-1", "class_id": "cls_x", "root_cause": "bored"})
    assert sorted(problem.split(":")[0] for problem in raised.value.problems) == [
        "class_id",
        "offset",
        "root_cause",
    ]


def test_without_reveal_client_producers_are_counted_together() -> None:
    """Without read:raw the overview's producers name no client address: every ``client:`` label is
    summed into ``client:(masked)``, its ratio recomputed; with it, the producers are as answered."""
    rows = [
        ProducerTraffic(producer="client:10.0.0.7", accepted=3, failed=1, acceptance_ratio=ratio(3, 1)),
        ProducerTraffic(producer="key:key_1", accepted=5, failed=0, acceptance_ratio=1.0),
        ProducerTraffic(producer="client:10.0.0.8", accepted=1, failed=3, acceptance_ratio=ratio(1, 3)),
    ]
    traffic = TrafficAnalytics(bucket="hour", buckets=[], versions=[], producers=rows)
    masked = shown_producers(traffic, reveal=False)
    assert [(row.producer, row.accepted, row.failed, row.acceptance_ratio) for row in masked] == [
        ("client:(masked)", 4, 4, 0.5),
        ("key:key_1", 5, 0, 1.0),
    ]
    assert shown_producers(traffic, reveal=True) == rows
    assert shown_producers(None, reveal=False) == []
