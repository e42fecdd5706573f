"""The OpenAPI document, as the gateway really answers: problem details for every error it can send.

FastAPI's generated document declares a 422 ``HTTPValidationError`` in ``application/json`` and no other
error; the gateway answers every error as RFC 9457 problem details (``problems.py``), from either layer.
:func:`install` rewrites the document once, when it is first asked for:

- a ``Problem`` schema, and on every operation the problem responses it can answer (400 and 421 from the
  Host check, 401 and 403 from authentication, 422 for parameters, 500 and 503 from the store, 413 and
  415 for bodies, 404 for one item);
- an optional query parameter is declared without its ``null`` alternative: a query string cannot send
  null, only leave the parameter out (FastAPI's ``anyOf: [..., {"type": "null"}]`` reads as if the text
  ``null`` were a value).

Schemathesis checks every answer against this document (``tests/api/test_http_openapi_fuzz.py``).
"""

from typing import Any

from fastapi import FastAPI

from sigma_aetl.http.mediatypes import JSON, JSON_SEQ, NDJSON_TYPES
from sigma_aetl.http.problems import MEDIA_TYPE

PROBLEM: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details; some problems add members (`errors`, `limit`, `accepted`...).",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "examples": ["about:blank"]},
        "title": {"type": "string", "examples": ["Unsupported Media Type"]},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string", "description": "The request path."},
    },
}
_EVERY_ROUTE = {
    "400": "The Host header is missing or malformed.",
    "421": "The Host is not one this gateway serves (SIGMA_AETL_ALLOWED_HOSTS).",
    "401": "Once any API key exists: no key, or an unknown or revoked one (docs/security.md).",
    "403": "The API key does not have the scope this route needs (named in `required_scope`).",
}
_STORE = {
    "500": "The store failed; nothing was stored. Retrying is safe.",
    "503": "The store is not available; nothing was stored. Retrying is safe.",
}
_BODY = {
    "413": "The body exceeds max_request_bytes.",
    "415": "The Content-Type is not one this endpoint takes; nothing was stored.",
}
_ERRORS: dict[tuple[str, str], dict[str, str]] = {
    ("post", "/api/validate"): {**_EVERY_ROUTE, **_BODY, "404": "No default contract is loaded."},
    ("post", "/v1/ingest/{contract}/{version}"): {**_EVERY_ROUTE, **_BODY, **_STORE},
    ("get", "/healthz"): {},
    ("get", "/readyz"): {"503": "The store is not available."},
    ("post", "/v1/replays"): {
        **_EVERY_ROUTE,
        **_STORE,
        "422": "The body is invalid, or the target cannot be replayed into (unknown, a draft without "
        "`allow_draft`, an edited release): `errors` says which.",
    },
    ("get", "/metrics"): {**_EVERY_ROUTE, "404": "Metrics are turned off (SIGMA_AETL_METRICS_ENABLED)."},
}
_READ = {**_EVERY_ROUTE, **_STORE, "422": "A query parameter is invalid (`errors` says which)."}
_ITEM = {**_READ, "404": "No such item."}


def install(app: FastAPI) -> None:
    """Serve the rewritten document from ``app.openapi()`` (and so ``/openapi.json`` and ``/docs``)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def document(generated: dict[str, Any]) -> dict[str, Any]:
    """FastAPI's generated document with the gateway's real error answers and query parameters."""
    schemas = generated.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas["Problem"] = PROBLEM
    for path, operations in generated["paths"].items():
        for method, operation in operations.items():
            _answers(operation, _errors(method, path))
            for parameter in operation.get("parameters", ()):
                parameter["schema"] = _without_null(parameter["schema"])
    _ingest_body(generated["paths"]["/v1/ingest/{contract}/{version}"]["post"])
    return generated


def _errors(method: str, path: str) -> dict[str, str]:
    declared = _ERRORS.get((method, path))
    if declared is not None:
        return declared
    return _ITEM if "{" in path else _READ  # a path naming one item (or its raw bytes) can be 404


def _answers(operation: dict[str, Any], errors: dict[str, str]) -> None:
    responses = operation["responses"]
    responses.pop("422", None)  # FastAPI's HTTPValidationError, which the gateway never sends
    for status, description in errors.items():
        responses[status] = {
            "description": description,
            "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """``anyOf: [X, {"type": "null"}]`` → ``X`` (with the schema's own title and description)."""
    options = [option for option in schema.get("anyOf", ()) if option != {"type": "null"}]
    if "anyOf" not in schema or len(options) != 1:
        return schema
    rest = {key: value for key, value in schema.items() if key != "anyOf"}
    return {**options[0], **rest}


def _ingest_body(operation: dict[str, Any]) -> None:
    """The content types ingest takes, one entry each (``application/*+json`` is not a media type an
    OpenAPI client could send, so the family is named in the description only)."""
    content: dict[str, Any] = {JSON: {"schema": {}}}
    for media_type in (*NDJSON_TYPES, JSON_SEQ):
        content[media_type] = {"schema": {"type": "string"}}
    operation["requestBody"]["content"] = content
