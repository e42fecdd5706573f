"""The dashboard in a real headless browser: Debian's Chromium, driven by Playwright, against a real
``sigma-aetl serve`` on a store with accepted events and failures of three classes.

Every page renders with its data and no console error, no failed request and no answer of 400 or more (a
script, an inline style or a resource the CSP blocks would be one); overview → class → failure record
shows the raw payload in three clicks; once a key exists the pages redirect to the login form, and pasting
a read key there opens them.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, Response, sync_playwright

from serve_support import ServeProcess
from sigma_aetl.stores import open_store
from sigma_aetl.stores.keys import issue
from sigma_aetl.testing import wait_until
from ui_support import CHROMIUM_ARGS, chromium, seed

CONTRACTS = Path(__file__).parents[2] / "contracts"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium (Debian's), launched once for the module."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(chromium()), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[ServeProcess]:
    """A real ``serve`` (keys read on every request), seeded over HTTP."""
    with ServeProcess(tmp_path, CONTRACTS, env={"SIGMA_AETL_AUTH_CACHE_SECONDS": "0"}) as running:
        seed(running.http)
        yield running


class Watched:
    """A page, and every console error, failed request and error answer it met."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("requestfailed", self._failed)
        page.on("response", self._answered)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type in {"error", "warning"}:
            self.problems.append(f"console {message.type}: {message.text}")

    def _failed(self, request: Request) -> None:
        self.problems.append(f"failed: {request.url} {request.failure}")

    def _answered(self, response: Response) -> None:
        if response.status >= 400:
            self.problems.append(f"{response.status}: {response.url}")

    def visit(self, url: str) -> None:
        """Open ``url``; it must answer 200 with no problem."""
        answer = self.page.goto(url)
        assert answer is not None
        assert answer.status == 200, url
        assert self.problems == [], url


def test_every_page_renders_and_three_clicks_reach_the_raw_payload(
    browser: Browser, serve: ServeProcess
) -> None:
    """Each page renders with its data and no console error or failed request; from the overview, a
    class, a sample failure and the record page's raw payload are three clicks away."""
    watched = Watched(browser.new_page())
    page = watched.page
    watched.visit(f"{serve.url}/ui")
    assert page.locator("table").first.is_visible()
    assert "failure records" in page.inner_text(".totals")
    page.locator("a[href^='/ui/classes/cls_']").first.click()  # 1
    assert page.url.startswith(f"{serve.url}/ui/classes/cls_")
    assert page.get_by_role("heading", name="Diagnosis").is_visible()
    page.locator("a[href^='/ui/failures/fail_']").first.click()  # 2
    assert page.url.startswith(f"{serve.url}/ui/failures/fail_")
    raw = page.locator("#raw-payload")
    assert raw.is_visible()  # 3: the raw payload, exactly as received
    assert '"shipment_id"' in raw.inner_text()
    failure = serve.http.get("/v1/failures/" + page.url.rsplit("/", 1)[1]).json()
    assert raw.inner_text() == failure["raw"]["text"]
    for path in ["/ui/classes", "/ui/failures", "/ui/contracts", "/ui/contracts/shipment", "/ui?window=1h"]:
        watched.visit(f"{serve.url}{path}")
        assert page.locator("main h1").inner_text()
        assert page.locator("main td").count() > 0, path
    assert watched.problems == []
    page.close()


def test_with_keys_the_pages_need_a_login_with_a_read_key(browser: Browser, serve: ServeProcess) -> None:
    """Once a key exists, /ui leads to the login form; pasting a read key opens the overview with its
    data, the cookie HttpOnly and SameSite=Strict; logging out leads back to the form."""
    keys = open_store(f"sqlite:///{serve.store}")
    token = issue(keys, "reader", ["read"]).token
    keys.close()
    wait_until(lambda: serve.http.get("/ui").status_code == 303, 10, "the gateway to need a key")
    context = browser.new_context()
    watched = Watched(context.new_page())
    page = watched.page
    watched.visit(f"{serve.url}/ui")
    assert page.url == f"{serve.url}/ui/login"
    page.fill("#key", token)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{serve.url}/ui")
    assert "failure records" in page.inner_text(".totals")
    [cookie] = context.cookies()
    assert (cookie["name"], cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == (
        "sigma_aetl_ui",
        True,
        "Strict",
        "/ui",
    )
    assert "Masked" in page.inner_text("main") or "masked" in page.inner_text("main")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{serve.url}/ui/login")
    assert context.cookies() == []
    assert watched.problems == []
    context.close()
