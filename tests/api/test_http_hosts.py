"""The Host allow-list defeats DNS rebinding: only names the gateway serves are answered."""

import socket
from collections.abc import Iterator

import httpx
import pytest

from api.conftest import SettingsFactory
from sigma_aetl.errors import ConfigError
from sigma_aetl.http import create_app
from sigma_aetl.http.exchange import Exchange
from sigma_aetl.http.hosts import REMEMBERED, REMEMBERED_LENGTH, AllowedHosts, HostCheck, host_name
from sigma_aetl.http.view import RequestView
from sigma_aetl.testing import JSON_HEADERS, VALID_SHIPMENT, ServerThread

INGEST = "/v1/ingest/shipment/1"
ROUTES = [("POST", INGEST), ("POST", "/api/validate"), ("GET", "/v1/stats"), ("GET", "/docs")]


@pytest.fixture
def named(make_settings_for: SettingsFactory) -> Iterator[httpx.Client]:
    """A gateway configured to serve gateway.example.com and every subdomain of internal.example."""
    settings = make_settings_for(allowed_hosts="gateway.example.com, *.internal.example")
    with ServerThread(create_app(settings)) as server, httpx.Client(base_url=server.url) as client:
        yield client


def _send(client: httpx.Client, method: str, path: str, host: str) -> httpx.Response:
    headers = {**JSON_HEADERS, "host": host}
    return client.request(method, path, content=VALID_SHIPMENT if method == "POST" else None, headers=headers)


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_rebound_name_is_misdirected_on_loopback(client: httpx.Client, method: str, path: str) -> None:
    """On loopback by default, a request addressed to another name is a 421 problem and stores nothing."""
    response = _send(client, method, path, "evil.example:8000")
    assert response.status_code == 421
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["instance"] == path
    assert client.get("/v1/stats").json()["accepted_total"] == 0


@pytest.mark.parametrize("host", ["localhost:8000", "LOCALHOST.", "127.0.0.1", "[::1]:1234"])
def test_loopback_names_are_served_by_default(client: httpx.Client, host: str) -> None:
    """On loopback by default, localhost, 127.0.0.1 and [::1] are served with any port."""
    assert _send(client, "POST", INGEST, host).json()["status"] == "PASSED"


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_answer_whatever_the_host(client: httpx.Client, path: str) -> None:
    """Health probes, which send the pod's address as Host, are answered whatever the Host."""
    assert _send(client, "GET", path, "10.1.2.3:8000").status_code == 200


@pytest.mark.parametrize("host", ["evil/x", "a b", "[::1", "host:port", ""])
def test_malformed_host_is_a_bad_request(client: httpx.Client, host: str) -> None:
    """A Host that is not a name or address with an optional port is a 400 problem."""
    response = _send(client, "GET", "/v1/stats", host)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


def test_missing_host_is_a_bad_request(server: ServerThread) -> None:
    """An HTTP/1.0 request with no Host header at all is a 400 problem."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"GET /v1/stats HTTP/1.0\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert b"application/problem+json" in answer


@pytest.mark.parametrize(
    ("host", "status"),
    [("gateway.example.com", 200), ("a.internal.example:443", 200), ("internal.example", 421), ("x.io", 421)],
)
def test_configured_names_are_served(named: httpx.Client, host: str, status: int) -> None:
    """Listed names and subdomains of a `*.` entry are served, any other name is 421."""
    assert _send(named, "GET", "/v1/stats", host).status_code == status


def test_any_host_with_star(make_settings_for: SettingsFactory) -> None:
    """`*` serves any Host."""
    with ServerThread(create_app(make_settings_for(allowed_hosts="*"))) as server:
        response = httpx.get(f"{server.url}/v1/stats", headers={"host": "whatever.example"})
    assert response.status_code == 200


def test_trailing_slash_is_not_redirected_to_the_host(make_settings_for: SettingsFactory) -> None:
    """A trailing slash is a 404 problem, never a redirect whose Location echoes the Host."""
    with ServerThread(create_app(make_settings_for(allowed_hosts="*"))) as server:
        response = httpx.get(f"{server.url}/v1/stats/", headers={"host": "evil.example"})
    assert response.status_code == 404
    assert "location" not in response.headers


def test_non_loopback_without_names_refuses_to_start(make_settings_for: SettingsFactory) -> None:
    """Serving on a non-loopback address with no allowed names is a configuration error."""
    with pytest.raises(ConfigError, match="SIGMA_AETL_ALLOWED_HOSTS"):
        create_app(make_settings_for(host="0.0.0.0"))


@pytest.mark.parametrize("entry", ["gateway.example.com:8000", "http://gateway.example.com", "a b"])
def test_allowed_host_entries_are_names(entry: str) -> None:
    """An entry with a port, a scheme or a space is a configuration error, not a silent mismatch."""
    with pytest.raises(ConfigError, match="allowed_hosts"):
        AllowedHosts.of_setting(entry, "0.0.0.0")


def test_host_names_are_normalised() -> None:
    """Host names compare in lower case, without the port or a trailing dot; IPv6 stays bracketed."""
    assert host_name("Gateway.Example.COM.:8000") == "gateway.example.com"
    assert host_name("[::1]:80") == "[::1]"
    assert host_name("[::1]x") is None


def test_a_flood_of_host_values_is_remembered_within_its_bound_and_still_judged() -> None:
    """Thousands of distinct Host values leave at most REMEMBERED names remembered, and each is judged
    as when first seen: an allowed name passes, another is 421, a malformed one 400."""
    allowed = AllowedHosts.of_setting("gw.example", "0.0.0.0")
    assert allowed is not None
    check = HostCheck(allowed)
    for index in range(3 * REMEMBERED):
        assert _status(check, f"n{index}.example") == 421
    assert (_status(check, "gw.example:8000"), _status(check, "GW.example."), _status(check, "a b")) == (
        None,
        None,
        400,
    )
    assert (_status(check, "n0.example"), _status(check, "gw.example:8000")) == (421, None)
    assert _status(check, "x" * (REMEMBERED_LENGTH + 1)) == 421  # judged, not remembered
    assert check._name.cache_info().currsize <= REMEMBERED


def _status(check: HostCheck, host: str) -> int | None:
    """The status of the check's answer to a request for ``/v1/records`` with ``host`` (None: passed)."""
    exchange = Exchange(RequestView("GET", "/v1/records", {"host": host}, None))
    step = check.on_request(exchange)
    try:
        step.send(None)
    except StopIteration as done:
        reply = done.value
    else:
        raise AssertionError("the Host check waited")
    return None if reply is None else reply.status
