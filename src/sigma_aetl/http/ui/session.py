"""Logging in to the dashboard by pasting an API key, and logging out: the only two forms it has.

A browser cannot add ``Authorization`` to a page load, so ``POST /ui/login`` takes the key from a form,
checks it as the gateway does (its SHA-256 looked up with the store's ``find_key``: an active key with
scope ``read``), and keeps it in a cookie the authentication hook reads under ``/ui`` only
(``http/auth.py``)::

    Set-Cookie: sigma_aetl_ui=<token>; HttpOnly; SameSite=Strict; Path=/ui; Max-Age=28800[; Secure]

``Secure`` when the request came over https; ``SameSite=Strict`` keeps the cookie off every request
another site starts, so no other page can use it. A bad key shows the form again with the reason (401).
``POST /ui/logout`` clears the cookie. A form posted from another site (``Sec-Fetch-Site: cross-site`` or
``same-site``, which browsers send) is refused, 403: no other page can log a browser in with a key of its
choosing, or out. In open mode (no key exists) the pages need none, and the login form says so.
"""

import asyncio
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import Response

from sigma_aetl.core.keys import MAX_TOKEN, READ, grants, token_hash
from sigma_aetl.http.auth import UI, UI_COOKIE, UI_LOGIN
from sigma_aetl.http.ui.rendering import error_page, page, redirect
from sigma_aetl.ingest.gateway import Gateway

SESSION_SECONDS = 8 * 3600
"""How long the browser keeps the key: a working day, then the form again."""
MAX_FORM_BYTES = 4096
"""The most of a login form's body read: a token is at most ``MAX_TOKEN`` characters."""

router = APIRouter()


def _gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


def cookie(request: Request, token: str, max_age: int) -> str:
    """The ``Set-Cookie`` value keeping ``token`` for ``max_age`` seconds (0: removing it)."""
    secure = "; Secure" if request.url.scheme == "https" else ""
    return f"{UI_COOKIE}={token}; HttpOnly; SameSite=Strict; Path={UI}; Max-Age={max_age}{secure}"


async def form_token(request: Request) -> str | None:
    """The ``key`` field of a urlencoded form body (None when absent or the body is too large)."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    fields = parse_qs(body.decode("latin-1"), max_num_fields=10)
    token = (fields.get("key") or [""])[0].strip()
    return token or None


def key_error(gateway: Gateway, token: str | None) -> str | None:
    """Why ``token`` cannot open the dashboard, or None: it names an active key with scope ``read``."""
    if not token or len(token) > MAX_TOKEN or not token.isprintable() or ";" in token:
        return "Paste an API key (sgk_…): `sigma-aetl keys create --name NAME --scope read`."
    key = gateway.store.find_key(token_hash(token))
    if key is None or not key.active:
        return "That key is not valid: it is unknown or revoked."
    if not grants(frozenset(key.scopes), READ):
        return f"The key {key.key_id} does not have the scope read, which the dashboard needs."
    return None


def from_elsewhere(request: Request) -> Response | None:
    """A 403 page for a form another site posted (see the module docstring); None for this site's own."""
    if request.headers.get("sec-fetch-site", "same-origin") in {"same-origin", "none"}:
        return None
    detail = "A login or logout posted from another site is refused: use this site's own form."
    return error_page(
        403, "Forbidden", detail, problems=[], path=request.url.path, signed_in=False, reveal=True
    )


async def _open(gateway: Gateway) -> bool:
    return not await asyncio.to_thread(gateway.store.has_keys)


@router.get(UI_LOGIN)
async def login_form(request: Request) -> Response:
    """The form to paste a key into (or, in open mode, a note that none is needed)."""
    return page("login.html.j2", open_mode=await _open(_gateway(request)), error=None)


@router.post(UI_LOGIN)
async def login(request: Request) -> Response:
    """Check the key; keep it in the cookie and go to the overview, or show the form again (401)."""
    if (refused := from_elsewhere(request)) is not None:
        return refused
    gateway = _gateway(request)
    token = await form_token(request)
    error = await asyncio.to_thread(key_error, gateway, token)
    if error is not None or token is None:
        return page("login.html.j2", 401, open_mode=await _open(gateway), error=error)
    return redirect(UI, headers={"set-cookie": cookie(request, token, SESSION_SECONDS)})


@router.post(f"{UI}/logout")
async def logout(request: Request) -> Response:
    """Clear the cookie and go back to the login form."""
    if (refused := from_elsewhere(request)) is not None:
        return refused
    return redirect(UI_LOGIN, headers={"set-cookie": cookie(request, "", 0)})
