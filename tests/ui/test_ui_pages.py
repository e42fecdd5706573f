"""The dashboard's pages over a seeded store: each renders with data, with the security headers, links
down to a failure's raw payload, and answers bad input with a 404 or 422 page, never a 5xx."""

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from n8n_support import Mongo
from replay_support import v2_shaped
from sigma_aetl.http import create_app
from sigma_aetl.http.ui import views
from sigma_aetl.settings import Settings
from sigma_aetl.testing import STRING_PRIORITY, ServerThread, wait_until
from ui_support import CSP, SECRET, failures_of, forms_of, links_of, seed

CONTRACTS = Path(__file__).parents[2] / "contracts"

PAGES = [
    "/ui",
    "/ui?window=1h",
    "/ui?window=7d",
    "/ui/classes",
    "/ui/failures",
    "/ui/contracts",
    "/ui/contracts/shipment",
    "/ui/contracts/shipment?from=1&to=2",
    "/ui/login",
]


def first_class(client: httpx.Client) -> dict[str, Any]:
    """The class with most failures, through the JSON API."""
    found: dict[str, Any] = client.get("/v1/failure-classes").json()["items"][0]
    return found


def assert_page_headers(answer: httpx.Response) -> None:
    """An HTML page with every security header and no-store."""
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert answer.headers["content-security-policy"] == CSP
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert answer.headers["cache-control"] == "no-store"


def every_page(client: httpx.Client) -> list[str]:
    """The fixed pages and those of one class and of every stored failure."""
    failures = [f"/ui/failures/{item['failure_id']}" for item in failures_of(client)]
    cls = first_class(client)["class_id"]
    return [*PAGES, f"/ui/classes/{cls}", f"/ui/failures?class_id={cls}", *failures]


def test_every_page_renders_with_the_security_headers(dashboard: httpx.Client) -> None:
    """Every page answers 200 HTML with the CSP, nosniff, no-referrer and no-store, and has no script."""
    for path in every_page(dashboard):
        answer = dashboard.get(path)
        assert answer.status_code == 200, (path, answer.text[:500])
        assert_page_headers(answer)
        assert "<script" not in answer.text.lower()
        assert " style=" not in answer.text  # the CSP allows no inline style


def test_the_only_forms_are_login_and_logout(dashboard: httpx.Client) -> None:
    """No page has a form but the login form (a key field) and logout (a button): nothing can write."""
    for path in every_page(dashboard):
        for form in forms_of(dashboard.get(path).text):
            assert (form["method"], form["action"]) in {("post", "/ui/login"), ("post", "/ui/logout")}, path
            assert set(form["fields"]) <= {"key", None}, path


def test_the_style_sheet_is_cached_long_with_its_media_type(dashboard: httpx.Client) -> None:
    """The style sheet linked from every page is text/css, cached for a year, under the same CSP."""
    [href] = [link for link in links_of(dashboard.get("/ui").text) if "ui.css" in link]
    answer = dashboard.get(href)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/css; charset=utf-8"
    assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert answer.headers["content-security-policy"] == CSP
    assert "body" in answer.text


def test_the_overview_shows_totals_classes_and_window_links(dashboard: httpx.Client) -> None:
    """The overview shows the totals and the classes seen in the window, and switches windows by links,
    not forms."""
    page = dashboard.get("/ui").text
    assert "2</span> accepted records" in page
    assert "7</span> failure records" in page
    assert first_class(dashboard)["class_id"] in page
    assert {"/ui?window=1h", "/ui?window=7d"} <= set(links_of(page))


def test_a_store_without_analytics_leaves_those_panels_saying_so(without_analytics: httpx.Client) -> None:
    """On a store that answers no analytics, the overview and a contract's page say so where the charts
    and alerts would be, and render everything else."""
    page = without_analytics.get("/ui")
    assert page.status_code == 200
    assert "does not answer traffic analytics" in page.text
    assert "does not answer alerts" in page.text
    assert "7</span> failure records" in page.text
    assert '<svg class="chart"' not in page.text
    contract = without_analytics.get("/ui/contracts/shipment")
    assert contract.status_code == 200
    assert "does not answer traffic analytics" in contract.text


def test_the_overview_draws_traffic_sparklines_and_alerts(with_analytics: httpx.Client) -> None:
    """From the store's own roll-ups the overview draws the traffic and acceptance charts, lists the
    producers, a sparkline per class and the stored alert."""
    page = with_analytics.get("/ui?window=1h").text
    assert page.count('<svg class="chart"') == 2
    assert "Acceptance ratio per contract version" in page
    assert page.count('<svg class="sparkline"') == 4  # one per stored class
    assert "invalid_ratio" in page
    assert "host-1:4242" in page
    assert "22.2%" in page  # 2 accepted of 9 events
    assert "<code>client:127.0.0.1</code>" in page  # open mode: the producers as answered
    contract = with_analytics.get("/ui/contracts/shipment").text
    assert "Events per version in the window" in contract


def test_drill_down_from_the_overview_reaches_the_raw_payload(dashboard: httpx.Client) -> None:
    """Overview → class → failure record, following links: the record page shows the raw bytes, escaped,
    every error with its explanation, and the transport metadata."""
    overview = dashboard.get("/ui").text
    cls = next(link for link in links_of(overview) if link.startswith("/ui/classes/cls_"))
    class_page = dashboard.get(cls).text
    assert "Diagnosis" in class_page
    assert "Would pass as" in class_page
    record = next(link for link in links_of(class_page) if link.startswith("/ui/failures/fail_"))
    page = dashboard.get(record).text
    assert "&#34;shipment_id&#34;" in page or "&quot;shipment_id&quot;" in page
    assert "weight_kg" in page
    assert SECRET in page  # open mode: the transport headers whole
    assert cls.removeprefix("/ui/classes/") in page


def test_a_payload_that_is_not_utf8_is_shown_as_hex(dashboard: httpx.Client) -> None:
    """The failure whose bytes are not UTF-8 shows them as a hex dump with their offsets."""
    [failure] = [f for f in failures_of(dashboard) if f["raw"]["encoding"] == "base64"]
    page = dashboard.get(f"/ui/failures/{failure['failure_id']}").text
    assert "shown as hex" in page
    assert re.search(r"00000010  [0-9a-f]{2} ", page)
    assert "ff fe" in page


def test_the_failures_of_a_class_are_listed_and_paged_by_links(
    dashboard: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """?class_id= lists only that class's failures; with pages of two, Next and Previous links walk them."""
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    cls = first_class(dashboard)
    first = dashboard.get("/ui/failures", params={"class_id": cls["class_id"]}).text
    shown = set(re.findall(r'href="/ui/failures/(fail_[0-9a-f]+)"', first))
    assert len(shown) == 2
    assert shown <= {
        item["failure_id"] for item in failures_of(dashboard) if item["root_cause"] == cls["root_cause"]
    }
    [following] = [link for link in links_of(first) if "offset=2" in link]
    second = dashboard.get(following.replace("&amp;", "&")).text
    assert len(set(re.findall(r'href="/ui/failures/(fail_[0-9a-f]+)"', second))) == 1
    assert "offset=0" in second
    by_cause = dashboard.get("/ui/failures", params={"root_cause": "business_rule_violation"}).text
    assert "business_rule_violation" in by_cause


def test_a_class_page_of_failures_reads_a_bounded_number(
    dashboard: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page of a class's failures stops reading at the bound and says so, with where to list further."""
    monkeypatch.setattr(views, "PAGE_SIZE", 1)
    monkeypatch.setattr(views, "MAX_SCANNED", 1)
    cls = first_class(dashboard)["class_id"]
    page = dashboard.get("/ui/failures", params={"class_id": cls, "offset": 2}).text
    assert "This page stopped after reading 1 failures" in page
    assert len(set(re.findall(r'href="/ui/failures/(fail_[0-9a-f]+)"', page))) == 1


def test_the_contract_page_shows_versions_and_the_diff(dashboard: httpx.Client) -> None:
    """A contract's page lists its versions with state and fingerprint, and the changes between two."""
    page = dashboard.get("/ui/contracts/shipment", params={"from": 1, "to": 2}).text
    assert "shipment@1" in page
    assert "shipment@2" in page
    assert "released" in page or "draft" in page
    assert "change(s)" in page
    assert "<td>changed</td>" in page or "<td>added</td>" in page or "<td>removed</td>" in page
    listing = dashboard.get("/ui/contracts").text
    assert "/ui/contracts/order" in listing


@pytest.mark.parametrize(
    "path",
    [
        "/ui/classes/cls_" + "0" * 32,
        "/ui/classes/not-a-class",
        "/ui/failures/fail_" + "0" * 32,
        "/ui/failures/<script>",
        "/ui/contracts/nothing",
        "/ui/contracts/shipment?from=9",
        "/ui/nowhere",
        "/ui/",
    ],
)
def test_an_unknown_id_is_a_404_page(dashboard: httpx.Client, path: str) -> None:
    """An id nothing has, a malformed one, a version not loaded or a page that does not exist is a 404
    HTML page with the security headers, its id escaped."""
    answer = dashboard.get(path)
    assert answer.status_code == 404
    assert_page_headers(answer)
    assert "<script>" not in answer.text


@pytest.mark.parametrize(
    "path",
    [
        "/ui?window=2h",
        "/ui/classes?offset=-1",
        "/ui/classes?root_cause=bored",
        "/ui/failures?offset=x",
        "/ui/failures?class_id=cls_XYZ",
        "/ui/failures?version=0",
        "/ui/contracts/shipment?from=0",
        "/ui/contracts/shipment?to=two",
    ],
)
def test_a_bad_parameter_is_a_422_page(dashboard: httpx.Client, path: str) -> None:
    """A parameter a page cannot use is a 422 HTML page naming it, never a 5xx."""
    answer = dashboard.get(path)
    assert answer.status_code == 422
    assert_page_headers(answer)
    name = path.partition("?")[2].partition("=")[0]
    assert name in answer.text


def test_the_dashboard_is_not_in_the_openapi_document(dashboard: httpx.Client) -> None:
    """No /ui path is in /openapi.json."""
    paths = dashboard.get("/openapi.json").json()["paths"]
    assert not [path for path in paths if path.startswith("/ui")]


@pytest.fixture
def on_mongodb(tmp_path: Path) -> Iterator[httpx.Client]:
    """A client of a seeded, open gateway on a MongoDB store (nx-27017, in memory)."""
    mongo = Mongo.start(tmp_path)
    url = f"{mongo.url}/sigma_ui?serverSelectionTimeoutMS=5000"
    settings = Settings(store_url=url, contracts_dir=CONTRACTS)
    try:
        with (
            ServerThread(create_app(settings)) as server,
            httpx.Client(base_url=server.url, timeout=30) as client,
        ):
            seed(client)
            yield client
    finally:
        mongo.stop()


def test_every_page_renders_on_a_mongodb_store(on_mongodb: httpx.Client) -> None:
    """The pages read the store through its protocol only: on MongoDB each renders as on SQLite, and the
    drill-down reaches the raw payload."""
    for path in every_page(on_mongodb):
        answer = on_mongodb.get(path)
        assert answer.status_code == 200, (path, answer.text[:500])
        assert_page_headers(answer)
    cls = first_class(on_mongodb)
    page = on_mongodb.get(f"/ui/failures?class_id={cls['class_id']}").text
    assert len(set(re.findall(r'href="/ui/failures/(fail_[0-9a-f]+)"', page))) == cls["count"]
    sample = on_mongodb.get(f"/ui/failures/{cls['samples'][0]}").text
    assert 'id="raw-payload"' in sample


def test_a_replayed_failure_shows_its_resolution(dashboard: httpx.Client) -> None:
    """A failure a replay resolved shows the record built from its bytes, the target and the replay; the
    record page is otherwise the same failure, never modified."""
    sent = dashboard.post(
        "/v1/ingest/shipment/1", content=v2_shaped(1), headers={"content-type": "application/json"}
    ).json()
    before = dashboard.get(f"/ui/failures/{sent['failure_id']}").text
    assert "Not resolved by a replay" in before
    started = dashboard.post(
        "/v1/replays", json={"to": "shipment@2", "contract": "shipment", "allow_draft": True}
    )
    location = started.headers["location"]
    wait_until(lambda: dashboard.get(location).json()["state"] == "done", 30, "the replay to finish")
    [resolution] = dashboard.get(f"/v1/failures/{sent['failure_id']}").json()["resolutions"]
    after = dashboard.get(f"/ui/failures/{sent['failure_id']}").text
    assert resolution["record_id"] in after
    assert resolution["replay_id"] in after
    assert "<td>shipment@2</td>" in after


def test_a_failure_that_arrived_again_shows_its_latest_arrivals(dashboard: httpx.Client) -> None:
    """The same bytes sent again are one failure with two arrivals: the page lists both, each with its
    transport metadata."""
    dashboard.post(
        "/v1/ingest/shipment/1", content=STRING_PRIORITY, headers={"content-type": "application/json"}
    )
    [failure] = [f for f in failures_of(dashboard) if f["root_cause"] == "type_mismatch"]
    page = dashboard.get(f"/ui/failures/{failure['failure_id']}").text
    assert "The same bytes arrived 2 times" in page
    assert page.count("&#34;request_id&#34;") == 2


def test_markup_a_producer_sent_is_shown_escaped_everywhere(dashboard: httpx.Client) -> None:
    """A payload whose values and field names are markup is shown as text on its record, class and list
    pages: no element a producer wrote reaches the page."""
    body = b'{"shipment_id": "<script>alert(1)</script>", "weight_kg": -1, "destination": "Cork", '
    body += b'"priority": 1, "<img src=x onerror=alert(2)>": 1}'
    sent = dashboard.post("/v1/ingest/shipment/1", content=body, headers={"content-type": "application/json"})
    failure_id = sent.json()["failure_id"]
    class_id = dashboard.get(f"/v1/failures/{failure_id}/diagnosis").json()["class_id"]
    for path in [
        f"/ui/failures/{failure_id}",
        f"/ui/classes/{class_id}",
        "/ui/failures",
        "/ui/classes",
        "/ui",
    ]:
        page = dashboard.get(path).text
        assert "<script" not in page, path
        assert "<img" not in page, path
    record = dashboard.get(f"/ui/failures/{failure_id}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in record
    assert "&lt;img src=x onerror=alert(2)&gt;" in record
