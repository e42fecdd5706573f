"""Request-level errors as RFC 9457 problem details (``application/problem+json``).

A bad *event* is never a problem: it is a decision (HTTP 200) and a failure record. Problems are for
requests that cannot be handled: unknown route, wrong method, body over the hard limit, bad query
parameters, store unavailable.
"""

from http import HTTPStatus
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from sigma_aetl import logs
from sigma_aetl.errors import StoreError, StoreUnavailable

MEDIA_TYPE = "application/problem+json"
_log = logs.get("http")


def problem(status: int, detail: str, *, instance: str | None = None, **extra: Any) -> Response:
    """A problem-details response; ``extra`` members are added beside the standard ones."""
    body = problem_body(status, detail, instance=instance, **extra)
    return Response(body, status_code=status, media_type=MEDIA_TYPE)


def problem_body(status: int, detail: str, *, instance: str | None = None, **extra: Any) -> bytes:
    """The JSON body of a problem-details response."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    return orjson.dumps(body)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).description
    if exc.status_code == HTTPStatus.NOT_FOUND and detail == "Not Found":
        detail = f"No route matches {request.method} {request.url.path}."
    return problem(exc.status_code, detail, instance=request.url.path)


async def _invalid_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": list(error["loc"]), "msg": error["msg"], "type": error["type"]} for error in exc.errors()
    ]
    return problem(422, "The request parameters are invalid.", instance=request.url.path, errors=errors)


STORE_FAILED = "The store failed; nothing was stored for this request. Retrying is safe."
STORE_UNAVAILABLE = "The store is not available; nothing was stored for this request. Retrying is safe."


def store_failure(exc: StoreError, path: str) -> tuple[int, str]:
    """The status and the stable detail for a store error, which is logged here with its text.

    The exception's own text never reaches the client: a driver's message can name hosts, users, database
    and collection names or a query — the operator reads it in the log (``store.failed``), not a producer.
    """
    status = 503 if isinstance(exc, StoreUnavailable) else 500
    _log.error("store.failed", path=path, error=str(exc), kind=type(exc).__name__, status=status)
    return status, STORE_UNAVAILABLE if status == 503 else STORE_FAILED


async def _store_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StoreError)
    status, detail = store_failure(exc, request.url.path)
    return problem(status, detail, instance=request.url.path)


async def _unexpected(request: Request, exc: Exception) -> Response:
    # Starlette logs the exception and re-raises it after this answer; the client sees no traceback text.
    detail = "The gateway failed to answer this request; nothing is known to have been stored."
    return problem(500, detail, instance=request.url.path)


def install(app: FastAPI) -> None:
    """Register the problem-details handlers on ``app``."""
    app.add_exception_handler(Exception, _unexpected)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(StoreError, _store_error)
