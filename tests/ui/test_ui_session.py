"""Logging in to the dashboard with a key, the cookie's flags, logout, and what a key without read:raw
sees."""

import httpx

from sigma_aetl.testing import HEAVY_SHIPMENT
from ui_support import SECRET, Keyed, failures_of, forms_of

LOGIN = "/ui/login"


def login(client: httpx.Client, token: str, **headers: str) -> httpx.Response:
    """POST the login form with ``token``, as a browser sends it."""
    form = {"content-type": "application/x-www-form-urlencoded", **headers}
    return client.post(LOGIN, content=f"key={token}".encode(), headers=form)


def as_cookie(token: str) -> dict[str, str]:
    """The Cookie header a browser sends once logged in."""
    return {"cookie": f"sigma_aetl_ui={token}"}


def test_in_open_mode_pages_are_open_and_login_says_so(dashboard: httpx.Client) -> None:
    """With no key in the store, every page answers without one, and the login form says none is needed."""
    assert dashboard.get("/ui").status_code == 200
    assert "the dashboard is open" in dashboard.get(LOGIN).text


def test_without_a_key_a_page_redirects_to_the_login_form(keyed: Keyed) -> None:
    """Once keys exist, a page request with no key, or an unknown one, is a 303 to the login form (a
    relative Location), which is served without a key."""
    client, _ = keyed
    for headers in ({}, as_cookie("sgk_unknown")):
        answer = client.get("/ui/classes", headers=headers)
        assert answer.status_code == 303
        assert answer.headers["location"] == LOGIN
    form = client.get(LOGIN)
    assert form.status_code == 200
    assert [f["action"] for f in forms_of(form.text)] == [LOGIN]
    assert client.get("/ui/static/ui.css").status_code == 200


def test_a_read_key_logs_in_with_a_strict_httponly_cookie(keyed: Keyed) -> None:
    """POST /ui/login with a read key sets the cookie (HttpOnly, SameSite=Strict, Path=/ui, a bounded
    Max-Age, no Secure over http) and redirects to /ui, where the cookie then opens the pages."""
    client, issue = keyed
    token = issue(["read"])
    answer = login(client, token)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/ui"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"sigma_aetl_ui={token};")
    flags = {part.strip() for part in cookie.split(";")[1:]}
    assert {"HttpOnly", "SameSite=Strict", "Path=/ui", "Max-Age=28800"} == flags
    page = client.get("/ui", headers=as_cookie(token))
    assert page.status_code == 200
    assert {(f["method"], f["action"]) for f in forms_of(page.text)} == {("post", "/ui/logout")}


def test_the_cookie_is_secure_when_the_request_came_over_https(keyed: Keyed) -> None:
    """Behind a TLS-terminating proxy on loopback (X-Forwarded-Proto: https), the cookie is Secure."""
    client, issue = keyed
    answer = login(client, issue(["read"]), **{"x-forwarded-proto": "https"})
    assert answer.status_code == 303
    assert "Secure" in {part.strip() for part in answer.headers["set-cookie"].split(";")}


def test_a_bad_key_shows_the_form_again_with_the_reason(keyed: Keyed) -> None:
    """An unknown key, a revoked one, one without read and an empty form each get the form again, 401,
    with the reason, and no cookie."""
    client, issue = keyed
    for token, reason in [
        ("sgk_nothing", "unknown or revoked"),
        (issue(["ingest:shipment"]), "does not have the scope read"),
        ("", "Paste an API key"),
        ("x" * 300, "Paste an API key"),
    ]:
        answer = login(client, token)
        assert answer.status_code == 401, token
        assert reason in answer.text
        assert "set-cookie" not in answer.headers
        assert [f["action"] for f in forms_of(answer.text)] == [LOGIN]


def test_logout_clears_the_cookie(keyed: Keyed) -> None:
    """POST /ui/logout answers a 303 to the login form with the cookie emptied and expired."""
    client, issue = keyed
    answer = client.post("/ui/logout", headers=as_cookie(issue(["read"])))
    assert answer.status_code == 303
    assert answer.headers["location"] == LOGIN
    assert answer.headers["set-cookie"].startswith(
        "sigma_aetl_ui=; HttpOnly; SameSite=Strict; Path=/ui; Max-Age=0"
    )


def test_the_cookie_carries_a_key_under_ui_only(keyed: Keyed) -> None:
    """The API keeps header-only keys: the dashboard's cookie opens no /v1 route (401), while the same
    token in a header does."""
    client, issue = keyed
    token = issue(["read"])
    assert client.get("/v1/failures", headers=as_cookie(token)).status_code == 401
    assert client.get("/v1/stats", headers=as_cookie(token)).status_code == 401
    assert client.get("/v1/stats", headers={"authorization": f"Bearer {token}"}).status_code == 200


def test_without_read_raw_the_record_page_masks_payload_and_headers(keyed: Keyed) -> None:
    """A read key's record page shows no raw bytes, no transport header and no client address, and says
    they are masked; the class page counts its client producers together. read:raw shows them whole."""
    client, issue = keyed
    reader, auditor = as_cookie(issue(["read"])), as_cookie(issue(["read:raw"]))
    bearer = {"authorization": f"Bearer {issue(['read:raw'])}"}
    again = HEAVY_SHIPMENT.replace(b"SHIP-HEAVY-1", b"SHIP-HEAVY-0")  # a second arrival, listed apart
    sender = {"authorization": f"Bearer {issue(['ingest:shipment'])}", "content-type": "application/json"}
    assert client.post("/v1/ingest/shipment/1", content=again, headers=sender).status_code == 200
    failure = next(f for f in failures_of(client, bearer) if f["raw"]["text"] == again.decode())
    page = client.get(f"/ui/failures/{failure['failure_id']}", headers=reader).text
    assert "Masked: the key lacks the scope" in page
    assert "SHIP-HEAVY" not in page
    assert SECRET not in page
    assert "127.0.0.1" not in page
    assert "Latest arrivals" in page
    whole = client.get(f"/ui/failures/{failure['failure_id']}", headers=auditor).text
    assert "SHIP-HEAVY" in whole
    assert SECRET in whole
    assert "127.0.0.1" in whole
    cls = client.get("/v1/failure-classes", headers=bearer).json()["items"][0]["class_id"]
    class_page = client.get(f"/ui/classes/{cls}", headers=reader).text
    assert "client:(masked)" in class_page
    assert "127.0.0.1" not in class_page
    assert "client:127.0.0.1" in client.get(f"/ui/classes/{cls}", headers=auditor).text


def test_a_form_posted_from_another_site_is_refused(keyed: Keyed) -> None:
    """A login or logout another site's page posts (Sec-Fetch-Site: cross-site or same-site) is a 403
    page and sets no cookie; this site's own form (same-origin) logs in."""
    client, issue = keyed
    token = issue(["read"])
    for site in ("cross-site", "same-site"):
        answer = login(client, token, **{"sec-fetch-site": site})
        assert answer.status_code == 403
        assert "set-cookie" not in answer.headers
        assert client.post("/ui/logout", headers={"sec-fetch-site": site}).status_code == 403
    assert login(client, token, **{"sec-fetch-site": "same-origin"}).status_code == 303
