"""The ready-made operations files: Prometheus alert rules that promtool accepts and whose unit tests pass,
and a Grafana dashboard whose every expression names a metric the gateway or the worker really exports."""

import json
import re
import urllib.request
from pathlib import Path
from typing import Any

import httpx

from deploy_support import DEPLOY, promtool, run
from metrics_support import names
from sigma_aetl.http import create_app
from sigma_aetl.ingest.metrics import Metrics
from sigma_aetl.kafka.health import Health, HealthServer
from sigma_aetl.settings import Settings
from sigma_aetl.testing import INVALID_SHIPMENT, JSON_HEADERS, VALID_SHIPMENT, ServerThread

ALERTS = DEPLOY / "prometheus" / "alerts.yaml"
ALERT_TESTS = DEPLOY / "prometheus" / "alerts.test.yaml"
DASHBOARD = DEPLOY / "grafana" / "sigma-aetl.json"
CONTRACTS = Path(__file__).parents[2] / "contracts"
METRIC = re.compile(r"\bsigma_aetl_[a-z_]+")


def fetch(url: str) -> str:
    """The body ``url`` answers."""
    with urllib.request.urlopen(url, timeout=10) as answer:
        return str(answer.read().decode())


def exported(tmp_path: Path) -> set[str]:
    """Every metric name a real gateway (after an accepted and a failed event, its flood guard on) and a
    worker's health port answer on ``/metrics``."""
    store_url = f"sqlite:///{tmp_path}/gateway.db"
    settings = Settings(store_url=store_url, contracts_dir=CONTRACTS, flood_consecutive_failures=1)
    with (
        ServerThread(create_app(settings)) as server,
        httpx.Client(base_url=server.url, timeout=30, headers=JSON_HEADERS) as http,
    ):
        for body in (VALID_SHIPMENT, INVALID_SHIPMENT):
            assert http.post("/v1/ingest/shipment/1", content=body).status_code == 200
        gateway = http.get("/metrics").text
    with HealthServer(Health(), "127.0.0.1", 0, Metrics("kafka")) as health:
        worker = fetch(f"http://127.0.0.1:{health.port}/metrics")
    return names(gateway) | names(worker)


def expressions(dashboard: dict[str, Any]) -> list[str]:
    """Every PromQL expression of the dashboard: its panels' targets and its template queries."""
    found = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    found += [item["definition"] for item in dashboard["templating"]["list"] if "definition" in item]
    return found


def test_promtool_accepts_the_alert_rules_and_their_tests_pass() -> None:
    """``promtool check rules`` accepts alerts.yaml, and ``promtool test rules`` fires each alert on the
    series it is meant for, with its summary and description filled in."""
    tool = promtool()
    assert "SUCCESS" in run([tool, "check", "rules", ALERTS])
    assert "SUCCESS" in run([tool, "test", "rules", ALERT_TESTS])


def test_every_alert_has_a_summary_a_description_and_a_severity() -> None:
    """Each rule is an alert with a severity label, a summary and a description (``promtool`` leaves
    annotations free, so this is checked here)."""
    text = ALERTS.read_text()
    alerts = re.findall(r"- alert: (\w+)", text)
    assert len(alerts) >= 6
    for block in text.split("- alert: ")[1:]:
        for part in ("severity:", "summary:", "description:"):
            assert part in block, block[:60]


def test_the_dashboard_is_well_formed() -> None:
    """The dashboard is Grafana JSON: a title and uid, a Prometheus datasource variable, panels with
    unique ids, a type, a place on the grid and at least one target each, every target on that source."""
    dashboard = json.loads(DASHBOARD.read_text())
    assert (dashboard["uid"], dashboard["title"]) == ("sigma-aetl", "SIGMA-AETL")
    variables = {item["name"]: item for item in dashboard["templating"]["list"]}
    assert variables["datasource"]["query"] == "prometheus"
    panels = dashboard["panels"]
    assert len({panel["id"] for panel in panels}) == len(panels) >= 8
    for panel in panels:
        assert panel["type"] in {"timeseries", "stat", "bargauge", "table"}
        assert panel["title"]
        assert set(panel["gridPos"]) == {"h", "w", "x", "y"}
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
        assert panel["targets"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}"
            assert target["refId"]
            assert target["expr"]


def test_every_expression_names_an_exported_metric(tmp_path: Path) -> None:
    """Each metric the dashboard and the alert rules query is one a real gateway or worker exports, and
    the dashboard covers every series family the brief lists."""
    available = exported(tmp_path)
    dashboard = json.loads(DASHBOARD.read_text())
    queried = {name for expr in expressions(dashboard) for name in METRIC.findall(expr)}
    alerted = set(METRIC.findall(ALERTS.read_text()))
    assert queried
    assert alerted
    assert queried - available == set()
    assert alerted - available == set()
    for family in (
        "sigma_aetl_events_total",
        "sigma_aetl_failed_fields_total",
        "sigma_aetl_decision_duration_seconds_bucket",
        "sigma_aetl_store_write_duration_seconds_bucket",
        "sigma_aetl_group_commit_queue_depth",
        "sigma_aetl_kafka_consumer_lag",
        "sigma_aetl_flood_guard_state",
    ):
        assert family in queried
