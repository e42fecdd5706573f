"""The dashboard's SVG charts, drawn from constructed analytics models: shapes, gaps, escaping, no style."""

import re
from datetime import UTC, datetime, timedelta

from sigma_aetl.core.analytics import FailureAnalytics, Series, TrafficAnalytics, VersionTraffic, ratio
from sigma_aetl.http.ui import charts
from sigma_aetl.http.ui.charts import Line

START = datetime(2026, 1, 1, tzinfo=UTC)
HOURS = [START + timedelta(hours=n) for n in range(4)]


def traffic(accepted: list[int], failed: list[int]) -> TrafficAnalytics:
    """shipment@1's traffic over four hours."""
    row = VersionTraffic(
        contract="shipment",
        version=1,
        accepted=accepted,
        failed=failed,
        accepted_total=sum(accepted),
        failed_total=sum(failed),
        acceptance_ratio=ratio(sum(accepted), sum(failed)),
        last_seen=HOURS[-1],
    )
    return TrafficAnalytics(bucket="hour", buckets=HOURS, versions=[row], producers=[])


def test_a_line_chart_draws_one_polyline_per_series_and_breaks_at_a_gap() -> None:
    """Each series is a polyline; a None value splits it in two; an area chart fills below each run."""
    svg = charts.line_chart(
        ["a", "b", "c", "d"], [Line("one", [1, 2, 3, 4]), Line("two", [1, None, 2, 2])], title="t"
    )
    assert svg.count("<polyline") == 3
    assert svg.count("<polygon") == 0
    filled = charts.line_chart(["a", "b"], [Line("one", [1, 2])], title="t", area=True)
    assert filled.count("<polygon") == 1


def test_labels_and_titles_are_escaped() -> None:
    """A label or title holding markup is escaped in the SVG, never emitted as markup."""
    svg = charts.line_chart(["<b>"], [Line('<script>alert("x")</script>', [1])], title="a & <i>")
    assert "<script" not in svg
    assert "&lt;script&gt;" in svg
    assert "a &amp; &lt;i&gt;" in svg
    assert "&lt;b&gt;" in svg


def test_no_chart_uses_an_inline_style() -> None:
    """Colours are presentation attributes: no chart has a style attribute, which the CSP would block."""
    drawn = [
        charts.line_chart(["a", "b"], [Line("x", [1, 2])], title="t", area=True),
        charts.bar_chart(["a"], [Line("x", [1]), Line("y", [2])], title="t"),
        charts.sparkline([1, 2, 3]),
        charts.empty_chart("t"),
    ]
    assert not [svg for svg in drawn if "style=" in svg]


def test_a_chart_with_nothing_to_draw_says_so() -> None:
    """No labels, no series, or only zeros: the empty chart, with its words."""
    for svg in [
        charts.line_chart([], [Line("x", [])], title="t"),
        charts.line_chart(["a"], [], title="t"),
        charts.line_chart(["a", "b"], [Line("x", [0, 0])], title="t"),
        charts.bar_chart(["a"], [Line("x", [0])], title="t"),
    ]:
        assert "No data in this window" in svg
        assert "<polyline" not in svg


def test_bars_stack_their_segments_to_the_total() -> None:
    """One rect per series per bar; the tallest bar reaches the top of the plot, segments in proportion."""
    svg = charts.bar_chart(["v1", "v2"], [Line("accepted", [30, 10]), Line("failed", [10, 0])], title="t")
    heights = [
        float(h)
        for h in re.findall(r'<rect class="bar" x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)"', svg)
    ]
    assert len(heights) == 4
    accepted_v1, accepted_v2, failed_v1, _ = heights[0], heights[2], heights[1], heights[3]
    assert accepted_v1 == 3 * failed_v1
    assert accepted_v1 == 3 * accepted_v2
    assert "failed v1: 10" in svg


def test_a_sparkline_has_one_point_per_count() -> None:
    """A sparkline's polyline has a point per count; all zeros is a flat line at the bottom."""
    points = re.search(r'points="([^"]+)"', charts.sparkline([0, 5, 1, 0, 2])).group(1)  # type: ignore[union-attr]
    assert len(points.split()) == 5
    flat = re.search(r'points="([^"]+)"', charts.sparkline([0, 0, 0])).group(1)  # type: ignore[union-attr]
    assert len({pair.split(",")[1] for pair in flat.split()}) == 1


def test_the_same_model_draws_the_same_bytes() -> None:
    """Charts are deterministic: the same model twice is the same SVG."""
    model = traffic([2, 0, 3, 1], [1, 0, 0, 1])
    assert charts.traffic_chart(model) == charts.traffic_chart(model)
    assert charts.acceptance_chart(model) == charts.acceptance_chart(model)


def test_traffic_charts_from_the_model() -> None:
    """Events per version sum accepted and failed; the acceptance ratio leaves a gap for an hour with no
    events and is drawn on a 0-100 % axis; the x axis names the hours in UTC."""
    model = traffic([2, 0, 3, 1], [1, 0, 0, 1])
    events = charts.traffic_chart(model)
    assert "shipment@1" in events
    assert "01-01 00:00" in events
    acceptance = charts.acceptance_chart(model)
    assert acceptance.count("<polyline") == 2  # hour 2 had no events: two runs
    assert ">100%</text>" in acceptance
    assert ">0%</text>" in acceptance
    bars = charts.version_bars(model)
    assert "accepted shipment@1: 6" in bars
    assert "failed shipment@1: 2" in bars


def test_class_sparklines_are_keyed_by_class_id() -> None:
    """Failure analytics grouped by class give one sparkline per class id, titled with its total."""
    analytics = FailureAnalytics(
        group_by="class",
        bucket="hour",
        buckets=HOURS,
        series=[
            Series(group="cls_a", total=3, counts=[1, 0, 2, 0]),
            Series(group="cls_b", total=1, counts=[0, 0, 0, 1]),
        ],
        total=4,
    )
    lines = charts.class_sparklines(analytics)
    assert set(lines) == {"cls_a", "cls_b"}
    assert "3 failures in the window" in lines["cls_a"]
