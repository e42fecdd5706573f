"""The dashboard's templates and the headers every one of its answers carries.

One Jinja2 :class:`~jinja2.Environment` over the package's ``templates/``: autoescape on for every
template (``*.html.j2`` included), ``StrictUndefined`` (a name a view forgot is an error in the tests, not
an empty cell on a page). A page is answered with :func:`page`; an error page (404, 422, 401) the same
way, with its status. Every answer, the style sheet's included, carries :data:`SECURITY_HEADERS`: no
script, no inline style, no frame, forms only to this origin. Pages are ``no-store``; the style sheet is
cached for a year, its URL naming its content (``?v=`` and a hash), so a new release is fetched at once.
"""

import hashlib
import json
from datetime import datetime
from importlib import resources
from typing import Any

from fastapi.responses import Response
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}
HTML = "text/html; charset=utf-8"
CSS = "text/css; charset=utf-8"
CSS_CACHE = "public, max-age=31536000, immutable"
STYLESHEET = resources.files("sigma_aetl.http.ui").joinpath("static", "ui.css").read_bytes()
STYLESHEET_VERSION = hashlib.sha256(STYLESHEET).hexdigest()[:12]


def _when(moment: datetime | str | None) -> str:
    """An instant as the pages show it: UTC, to the second."""
    if moment is None:
        return "—"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _pretty(value: Any) -> str:
    """A JSON value, indented (the template escapes it)."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


def _ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def environment() -> Environment:
    """The dashboard's template environment (see the module docstring)."""
    env = Environment(
        loader=PackageLoader("sigma_aetl.http.ui", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(when=_when, pretty=_pretty, ratio=_ratio, svg=Markup)
    env.globals.update(stylesheet=f"/ui/static/ui.css?v={STYLESHEET_VERSION}")
    return env


ENVIRONMENT = environment()


def render(template: str, **context: Any) -> str:
    """``template`` rendered with ``context``."""
    return ENVIRONMENT.get_template(template).render(**context)


def page(
    template: str, status: int = 200, *, headers: dict[str, str] | None = None, **context: Any
) -> Response:
    """An HTML page: ``template`` rendered, with the security headers and ``Cache-Control: no-store``."""
    body = render(template, **context).encode()
    return Response(body, status_code=status, media_type=HTML, headers=page_headers(headers))


def error_page(status: int, title: str, detail: str, **context: Any) -> Response:
    """An error page (404, 422, ...): what went wrong, in words, and a way back."""
    return page("error.html.j2", status, title=title, detail=detail, code=status, **context)


def redirect(location: str, *, headers: dict[str, str] | None = None) -> Response:
    """A 303 to ``location`` (a path on this origin: a relative Location, never built from Host)."""
    return Response(status_code=303, headers={**page_headers(headers), "location": location})


def page_headers(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The security headers, ``no-store``, and ``extra``."""
    return {**SECURITY_HEADERS, "cache-control": "no-store", **(extra or {})}


def stylesheet() -> Response:
    """The style sheet, with its long cache."""
    headers = {**SECURITY_HEADERS, "cache-control": CSS_CACHE}
    return Response(STYLESHEET, media_type=CSS, headers=headers)
