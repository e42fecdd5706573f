"""The Host allow-list: a request hook that answers only requests addressed to a name the gateway serves.

DNS rebinding is the threat: a web page on ``evil.example`` has its name re-pointed at the gateway's address,
and the visitor's browser then talks to the gateway as if it were ``evil.example`` — same origin, so the page
can read every answer. The browser still sends ``Host: evil.example``; refusing names the gateway does not
serve defeats the attack. The setting ``allowed_hosts`` (``SIGMA_AETL_ALLOWED_HOSTS``, ``serve
--allowed-hosts``) lists them:

- unset, serving on a loopback address: ``localhost``, ``127.0.0.1`` and ``[::1]``, with any port;
- unset, serving on any other address: refused at start-up (:class:`ConfigError`): list the names
  producers use, or ``*``;
- ``a.example,*.b.example``: those names (``*.`` takes every subdomain, not the name itself), any port;
- ``*``: any Host, no hook at all.

A request with no Host, or one that is not a host name or an IP address with an optional port, is a 400
problem; a name not listed, 421 (Misdirected Request). ``/healthz`` and ``/readyz`` answer whatever the Host:
probes send the pod's IP address, and these two say only whether the process is up and ready.
"""

import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache

from sigma_aetl.errors import ConfigError
from sigma_aetl.http.exchange import Exchange
from sigma_aetl.http.reply import Reply, problem_reply

ANY = "*"
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
PROBES = frozenset({"/healthz", "/readyz"})
REMEMBERED = 1024
"""Host header values whose name the check remembers (the least recently seen are forgotten first)."""
REMEMBERED_LENGTH = 260
"""Longest value remembered: a DNS name (253 characters) with a port. A longer one is parsed each time,
so what the check keeps stays within a quarter of a megabyte whatever clients send."""
_NAME = re.compile(r"[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?")
_PORT = re.compile(r"[0-9]{1,5}")


def host_name(header: str) -> str | None:
    """The name of a Host header value, lower case, without port or trailing dot; None when malformed.

    ``Example.COM.:8000`` → ``example.com``; ``[::1]:80`` → ``[::1]``; ``a b`` → None.
    """
    value = header.strip().lower()
    if value.startswith("["):
        address, bracket, port = value[1:].partition("]")
        if not bracket or not _is_ipv6(address) or not _is_port(port.removeprefix(":"), port):
            return None
        return f"[{address}]"
    name, colon, port = value.partition(":")
    if colon and not _PORT.fullmatch(port):
        return None
    name = name.removesuffix(".")
    return name if _NAME.fullmatch(name) else None


def _is_ipv6(address: str) -> bool:
    try:
        ipaddress.IPv6Address(address)
    except ValueError:
        return False
    return True


def _is_port(digits: str, raw: str) -> bool:
    return raw == "" or (raw.startswith(":") and _PORT.fullmatch(digits) is not None)


def is_loopback(address: str) -> bool:
    """Whether a listen address is a loopback one (``127.0.0.0/8``, ``::1`` or ``localhost``)."""
    if address.lower().removesuffix(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class AllowedHosts:
    """Names a request may address: exact names, and ``*.domain`` for every subdomain of ``domain``."""

    names: frozenset[str]
    suffixes: tuple[str, ...]

    @classmethod
    def of_setting(cls, setting: str | None, listen_host: str) -> "AllowedHosts | None":
        """The allow-list for ``setting`` (see the module docstring); None when any Host is allowed."""
        entries = [entry.strip().lower() for entry in (setting or "").split(",") if entry.strip()]
        if ANY in entries:
            return None
        if not entries:
            if not is_loopback(listen_host):
                raise ConfigError(_needs_names(listen_host))
            entries = list(LOOPBACK_NAMES)
        names = {_entry(entry) for entry in entries if not entry.startswith("*.")}
        suffixes = tuple("." + _entry(entry[2:]) for entry in entries if entry.startswith("*."))
        return cls(frozenset(names), suffixes)

    def admits(self, name: str) -> bool:
        """Whether a request addressed to ``name`` (as :func:`host_name` gives it) is served."""
        return name in self.names or name.endswith(self.suffixes)


def _entry(entry: str) -> str:
    """One configured name, as :func:`host_name` would give it; a bare IPv6 address is bracketed."""
    bracketed = f"[{entry}]" if ":" in entry and not entry.startswith("[") else entry
    name = host_name(bracketed)
    if name is None or name != bracketed.removesuffix("."):
        raise ConfigError(
            f"allowed_hosts: {entry!r} is not a host name or an IP address (no port, no scheme): list "
            "names like gateway.example.com or *.example.com, or * for any."
        )
    return name


def _needs_names(listen_host: str) -> str:
    return (
        f"serve listens on {listen_host}, which is not a loopback address, and no allowed Host names are "
        "set: list the names producers address it by with SIGMA_AETL_ALLOWED_HOSTS=gateway.example.com,... "
        "(or serve --allowed-hosts), or * to accept any Host (see docs/threat-model.md, DNS rebinding)."
    )


class HostCheck:
    """The request hook: 400 for a missing or malformed Host, 421 for a name not allowed."""

    def __init__(self, allowed: AllowedHosts) -> None:
        self.allowed = allowed
        self._name = lru_cache(maxsize=REMEMBERED)(host_name)
        """:func:`host_name`, remembering the few values producers send (a Host parsed anew cost about
        a twenty-fifth of a request)."""

    async def on_request(self, exchange: Exchange) -> Reply | None:
        """Let the request through when its Host is allowed (or it is a health probe)."""
        request = exchange.request
        if request.path in PROBES:
            return None
        header = request.headers.get("host")
        if header is None:
            name = None
        else:
            name = self._name(header) if len(header) <= REMEMBERED_LENGTH else host_name(header)
        if name is None:
            detail = "The request has no Host header, or one that is not a host name with an optional port."
            return problem_reply(400, detail, request.path)
        if not self.allowed.admits(name):
            detail = (
                f"This gateway does not serve the host {name!r}. Address it by a name it is configured "
                "with (SIGMA_AETL_ALLOWED_HOSTS)."
            )
            return problem_reply(421, detail, request.path)
        return None

    def on_response(self, exchange: Exchange) -> None:
        """Nothing to do once answered."""
