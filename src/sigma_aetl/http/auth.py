"""Authentication and scopes: the first request hook of every gateway (see ``requestpath.py``).

Once any API key exists in the store, every request but ``/healthz`` and ``/readyz`` must carry one, as
``Authorization: Bearer <token>`` or ``X-API-Key: <token>``::

    no key, an unknown or a revoked one   401 problem details, WWW-Authenticate: Bearer
    a key without the scope the route needs   403 problem details naming the scope
    a key with it                         passed on; its id is in ``exchange.state["key_id"]`` and in the
                                          request view, so every record and failure names it

The dashboard (``/ui``, ``http/ui/``) is the one exception to header-only keys: a browser cannot add a
header to a page load, so under ``/ui`` (and nowhere else) the key may come in the cookie that
``POST /ui/login`` sets (:data:`UI_COOKIE`), and a page request without a valid key is redirected (303) to
the login form instead of answered 401. Its login, logout and style sheet are :data:`EXEMPT`.

With no key at all the gateway runs open (``serve`` refuses that on a non-loopback address unless
``allow_open``). Which scope a route needs is one table, :data:`ROUTE_SCOPES`; a route it does not name
needs ``admin``.

What the store says is cached for ``auth_cache_seconds`` (1 s unless set): whether any key exists, and
each token's key (or that it has none). So a key created, or revoked, in any process on the store takes
effect within that bound, and a request with a known token costs one SHA-256 and one dict lookup. An
answer past half its bound is read again behind the requests (:class:`KeyCache`), so they do not wait.
"""

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sigma_aetl import logs
from sigma_aetl.core.keys import (
    ADMIN,
    MAX_TOKEN,
    READ,
    READ_RAW,
    ApiKey,
    grants,
    presented_token,
    token_hash,
)
from sigma_aetl.errors import StoreError
from sigma_aetl.http.exchange import Exchange
from sigma_aetl.http.reply import Reply, problem_reply
from sigma_aetl.stores import Store

_log = logs.get("http")

UI = "/ui"
"""The dashboard's path prefix: the only paths where :data:`UI_COOKIE` carries a key."""
UI_LOGIN = f"{UI}/login"
UI_COOKIE = "sigma_aetl_ui"
"""The dashboard's cookie: the API key pasted into its login form (``HttpOnly``, ``Path=/ui``)."""
EXEMPT = frozenset({"/healthz", "/readyz", UI_LOGIN, f"{UI}/logout", f"{UI}/static/ui.css"})
"""Paths answered without a key: a load balancer's health checks; the dashboard's login and logout, and
the style sheet its login form is drawn with (public: it holds no data)."""
ROUTE_SCOPES: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("POST", re.compile(r"/v1/ingest/(?P<contract>[^/]+)/[^/]+"), "ingest:{contract}"),
    ("POST", re.compile(r"/api/validate"), "ingest:{default}"),
    ("GET", re.compile(r"/v1/failures/[^/]+/raw"), READ_RAW),  # raw bytes of a failure, for read:raw only
    ("GET", re.compile(r"/metrics"), READ),  # Prometheus sends the key as a bearer token
    ("GET", re.compile(r"/v1/failure-classes(/[^/]+)?"), READ),  # failure classes (samples masked)
    ("GET", re.compile(r"/v1/analytics/[^/]+"), READ),  # failure analytics (client labels masked)
    ("GET", re.compile(r"/v1/alerts"), READ),  # flood-guard alerts
    ("GET", re.compile(r"/v1/replays(/.*)?"), ADMIN),  # replays: started, followed and listed by admins
    ("GET", re.compile(r"/ui(/.*)?"), READ),  # the dashboard's pages (login and logout are exempt)
    ("GET", re.compile(r".*"), READ),  # every read view: records, failures, stats, contracts, /docs...
    ("HEAD", re.compile(r"/v1/replays(/.*)?"), ADMIN),
    ("HEAD", re.compile(r".*"), READ),
)
"""Method, path and the scope it needs, first match wins; ``{contract}`` is the path's, ``{default}`` the
name of ``POST /api/validate``'s default contract (``*`` when none is set). Anything else needs admin."""
MAX_CACHED = 10_000
"""Tokens remembered at most; past it the cache starts afresh (unknown tokens sent in a flood are cached
too, so that they cost the store one lookup per token per bound, not one per request)."""
CHALLENGE = (b"www-authenticate", b'Bearer realm="sigma-aetl"')
OPENAPI_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {
        "description": "Once any API key exists: no key, or an unknown or revoked one (docs/security.md).",
        "content": {"application/problem+json": {}},
    },
    403: {
        "description": "The API key does not have the scope this route needs (named in `required_scope`).",
        "content": {"application/problem+json": {}},
    },
}
"""The answers of this hook, declared on every guarded route of the OpenAPI document."""
SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "An API key: `sigma-aetl keys create`."},
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "The same key."},
}


def document_security(schema: dict[str, Any]) -> None:
    """Declare the API-key schemes in an OpenAPI document, on every operation but the health checks, so
    that /docs can send a key and clients can tell which routes want one."""
    schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
    for path, operations in schema.get("paths", {}).items():
        if path not in EXEMPT:
            for operation in operations.values():
                operation["security"] = [{"bearer": []}, {"apiKey": []}]


def needed_scope(method: str, path: str, default_contract: str | None) -> str:
    """The scope a request needs (see :data:`ROUTE_SCOPES`)."""
    for route_method, pattern, scope in ROUTE_SCOPES:
        if method == route_method and (match := pattern.fullmatch(path)) is not None:
            return scope.format(**match.groupdict(), default=default_contract or "*")
    return ADMIN


def is_ui(path: str) -> bool:
    """Whether ``path`` is one of the dashboard's (``/ui`` or below it)."""
    return path == UI or path.startswith(f"{UI}/")


def cookie_token(headers: dict[str, str]) -> str | None:
    """The token in the dashboard's cookie (:data:`UI_COOKIE`) of a ``Cookie`` header; None without it."""
    for pair in headers.get("cookie", "").split(";"):
        name, _, token = pair.strip().partition("=")
        if name == UI_COOKIE and token.strip():
            return token.strip()
    return None


def request_token(path: str, headers: dict[str, str]) -> str | None:
    """The token a request presents: a header anywhere, else, under ``/ui`` only, the dashboard's cookie."""
    token = presented_token(headers)
    if token is None and is_ui(path):
        return cookie_token(headers)
    return token


@dataclass(frozen=True, slots=True)
class _Known:
    """What the store said of one token hash, and until when it is trusted."""

    key: ApiKey | None
    scopes: frozenset[str]
    until: float


class KeyCache:
    """The store's keys as this process last read them, each answer trusted for ``seconds``.

    An answer older than half of ``seconds`` is read again behind the request that finds it so (a task of
    its own; the request goes on with the answer, which is still within the bound), so under steady
    traffic no request waits for the store. Only an answer that reached the bound is read while requests
    wait, as the first one is. A refreshed answer is trusted from the moment its read began, so no answer
    is ever trusted for longer than ``seconds``. (Waiting for every refresh cost serve's event loop a
    thread round trip under the GIL once a second: 10-20 ms in which every request stood still.)
    """

    def __init__(self, store: Store, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.seconds = seconds
        self.clock = clock
        self._closed = False
        self._closed_read = float("-inf")
        """When the read that gave :attr:`_closed` began."""
        self._tokens: dict[str, _Known] = {}
        self._refreshing: asyncio.Lock | None = None
        self._ahead: dict[str, asyncio.Task[None]] = {}
        """The reads running behind the requests, by what they read (``""``: whether any key exists)."""

    async def closed(self) -> bool:
        """Whether any key exists (the gateway then needs one); raises StoreError."""
        age = self.clock() - self._closed_read
        if age >= self.seconds:
            async with self._lock():
                if self.clock() - self._closed_read >= self.seconds:  # not read while this request waited
                    await self._read_closed()
        elif age >= self.seconds / 2:
            self._read_ahead("", self._read_closed)
        return self._closed

    async def lookup(self, token: str) -> _Known:
        """The key of ``token`` (None: no key has it); raises StoreError."""
        digest = token_hash(token)
        known = self._tokens.get(digest)
        now = self.clock()
        if known is None or now >= known.until:
            async with self._lock():
                known = self._tokens.get(digest)
                if known is None or self.clock() >= known.until:  # not read while this request waited
                    known = await self._read(digest)
        elif now >= known.until - self.seconds / 2:
            self._read_ahead(digest, lambda: self._read(digest))
        return known

    async def _read_closed(self) -> None:
        began = self.clock()
        closed = await asyncio.to_thread(self.store.has_keys)
        if began >= self._closed_read:  # a read that began later may have finished first
            self._closed, self._closed_read = closed, began

    async def _read(self, digest: str) -> _Known:
        began = self.clock()
        key = await asyncio.to_thread(self.store.find_key, digest)
        known = _Known(key, frozenset(key.scopes) if key else frozenset(), began + self.seconds)
        kept = self._tokens.get(digest)
        if kept is not None and kept.until > known.until:  # a read that began later finished first
            return kept
        if len(self._tokens) >= MAX_CACHED:
            self._tokens.clear()
        self._tokens[digest] = known
        return known

    def _read_ahead(self, what: str, read: Callable[[], Awaitable[object]]) -> None:
        """Start ``read`` behind the request, unless one for ``what`` is running already."""
        running = self._ahead.get(what)
        if running is not None and not running.done():
            return
        if len(self._ahead) >= MAX_CACHED:
            self._ahead = {name: task for name, task in self._ahead.items() if not task.done()}
        self._ahead[what] = asyncio.get_running_loop().create_task(_quietly(read, what))

    def _lock(self) -> asyncio.Lock:
        """One store read at a time: the requests that find an answer stale together share its read."""
        if self._refreshing is None:
            self._refreshing = asyncio.Lock()  # made here, on the event loop that serves
        return self._refreshing


async def _quietly(read: Callable[[], Awaitable[object]], what: str) -> None:
    """A read ahead: one that fails is logged and left to the next request, which reads again (and
    answers 503 if the store still cannot say once the answer reaches the bound)."""
    try:
        await read()
    except StoreError as exc:
        _log.warning("auth.refresh_failed", what="keys" if not what else "token", error=str(exc))


class Authentication:
    """The request hook: see the module docstring."""

    def __init__(self, cache: KeyCache, default_contract: str | None) -> None:
        self.cache = cache
        self.default_contract = default_contract
        """The name of ``POST /api/validate``'s default contract, whose ingest scope that route needs."""

    async def on_request(self, exchange: Exchange) -> Reply | None:
        """Let the request through, or answer 401, 403 (or 503 when the store cannot say)."""
        request = exchange.request
        if request.path in EXEMPT:
            return None
        try:
            if not await self.cache.closed():
                return None  # open: no key exists
            token = request_token(request.path, request.headers)
            known = await self.cache.lookup(token) if token and len(token) <= MAX_TOKEN else None
        except StoreError as exc:
            _log.error("auth.store_failed", path=request.path, error=str(exc))
            detail = "The store is not available, so the API key cannot be checked. Retrying is safe."
            return problem_reply(503, detail, request.path)
        if known is None or known.key is None or not known.key.active:
            return self._unauthenticated(exchange, token is not None)
        return self._authorised(exchange, known.key, known.scopes)

    def _unauthenticated(self, exchange: Exchange, presented: bool) -> Reply:
        if is_ui(exchange.request.path):  # a browser: to the login form, whose Location is relative
            exchange.response_headers.append((b"location", UI_LOGIN.encode()))
            return Reply(303, b"", "text/plain")
        exchange.response_headers.append(CHALLENGE)
        detail = (
            "The API key is not valid: it is unknown or revoked."
            if presented
            else "An API key is required: send Authorization: Bearer <token> or X-API-Key: <token>."
        )
        return problem_reply(401, detail, exchange.request.path)

    def _authorised(self, exchange: Exchange, key: ApiKey, scopes: frozenset[str]) -> Reply | None:
        request = exchange.request
        needed = needed_scope(request.method, request.path, self.default_contract)
        if not grants(scopes, needed):
            detail = f"The API key {key.key_id} does not have the scope {needed}, which this request needs."
            return problem_reply(403, detail, request.path, required_scope=needed, key_id=key.key_id)
        exchange.state["key_id"] = key.key_id
        exchange.state["reveal_raw"] = grants(scopes, READ_RAW)
        exchange.request = request.with_key_id(key.key_id)
        return None

    def on_response(self, exchange: Exchange) -> None:
        """Nothing to do once answered."""


def reveals_raw(state: dict[str, object]) -> bool:
    """Whether a request may see raw payloads and transport headers: in open mode, or with read:raw."""
    return state.get("reveal_raw", True) is not False
