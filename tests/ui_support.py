"""The dashboard's tests: a store with accepted events and failures of three classes, a store wrapper that
answers the analytics (the real stores' are built elsewhere), and what the pages are checked for."""

import re
from collections.abc import Callable
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest

from apt_support import apt_install, can_install
from sigma_aetl.core.alerts import Alert
from sigma_aetl.stores import Store
from sigma_aetl.testing import (
    HEAVY_SHIPMENT,
    INVALID_SHIPMENT,
    INVALID_UTF8,
    STRING_PRIORITY,
    VALID_SHIPMENT,
)

INGEST = "/v1/ingest/shipment/1"
Keyed = tuple[httpx.Client, Callable[[list[str]], str]]
"""A client of a gateway with keys, and a function issuing a key with the given scopes (its token)."""
SECRET_HEADER = "user-agent"
SECRET = "producer-agent/7.7-transport-detail"
"""A transport header the gateway keeps (its User-Agent) on every seeded event: masked without read:raw."""
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def seed(client: httpx.Client, headers: dict[str, str] | None = None) -> None:
    """Two accepted events and failures of three classes (3 invalid, 2 too heavy, 1 string priority), and
    one payload that is not UTF-8; each failure sent with :data:`SECRET_HEADER`."""
    sent = {"content-type": "application/json", SECRET_HEADER: SECRET, **(headers or {})}
    for n in range(2):
        body = VALID_SHIPMENT.replace(b"SHIP-TRUE-003", f"SHIP-OK-{n}".encode())
        assert client.post(INGEST, content=body, headers=sent).status_code == 200
    for n in range(3):
        answer = client.post(INGEST, content=INVALID_SHIPMENT, headers={**sent, "idempotency-key": f"b{n}"})
        assert answer.status_code == 200
    for n in range(2):
        body = HEAVY_SHIPMENT.replace(b"SHIP-HEAVY-1", f"SHIP-HEAVY-{n}".encode())
        assert client.post(INGEST, content=body, headers=sent).status_code == 200
    for body in (STRING_PRIORITY, INVALID_UTF8):
        assert client.post(INGEST, content=body, headers=sent).status_code == 200


def failures_of(client: httpx.Client, headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Every stored failure, through the JSON API."""
    items: list[dict[str, Any]] = client.get("/v1/failures", headers=headers).json()["items"]
    return items


class NoAnalyticsStore:
    """A store that answers no analytics and no alerts (``NotImplementedError``, as a store without
    roll-ups would); every other call goes to the store it wraps."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        if name in {"traffic_analytics", "failure_analytics", "list_alerts"}:
            raise NotImplementedError(name)
        return getattr(self.inner, name)


def alert() -> Alert:
    """One flood-guard alert on shipment@1."""
    return Alert(
        alert_id="alr_" + "a" * 32,
        kind="invalid_ratio",
        contract="shipment@1",
        source="http",
        value=0.75,
        threshold=0.5,
        window_events=40,
        action="alerted",
        raised_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        process="host-1:4242",
    )


class Forms(HTMLParser):
    """The forms of a page: each one's method, action and the names of its fields and buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Note a form, and a field of the last form."""
        found = dict(attrs)
        if tag == "form":
            self.forms.append({"method": found.get("method"), "action": found.get("action"), "fields": []})
        elif tag in {"input", "button", "select", "textarea"} and self.forms:
            self.forms[-1]["fields"].append(found.get("name"))


def forms_of(html: str) -> list[dict[str, Any]]:
    """Every form of ``html``."""
    parser = Forms()
    parser.feed(html)
    return parser.forms


def links_of(html: str) -> list[str]:
    """Every ``href`` of ``html``."""
    return re.findall(r'href="([^"]*)"', html)


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_PACKAGE = "chromium"
"""Debian's package for the browser the tests drive (Playwright's own download does not work here)."""
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> Path:
    """Debian's chromium, installed with apt-get (no recommends) when missing and this runs as root;
    otherwise the test fails, saying how to get it."""
    said = ""
    if not CHROMIUM.exists() and can_install():
        said = apt_install(CHROMIUM_PACKAGE)
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: apt-get install --no-install-recommends {CHROMIUM_PACKAGE}\n{said}"
        )
    return CHROMIUM
