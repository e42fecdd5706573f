"""``POST /api/validate``: the original SIGMA-AETL validator, stateless and wire-compatible.

Requests are answered by the ASGI fast path; this declaration documents the route in OpenAPI and serves
the same handler if the fast path is not installed.
"""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from sigma_aetl.http.body import BodyLimits, read_body
from sigma_aetl.http.handlers import validate_reply
from sigma_aetl.http.reply import reply_response
from sigma_aetl.http.schemas import ValidateResult
from sigma_aetl.http.view import RequestView

router = APIRouter(tags=["compatibility"])


@router.post(
    "/api/validate",
    response_model=ValidateResult,
    summary="Validate one event (original SIGMA-AETL API)",
    description="Checks the body against the default contract (`SIGMA_AETL_DEFAULT_CONTRACT`, "
    "`shipment_compat@1` unless set) and stores nothing. HTTP 200 for every event: `{status: PASSED, "
    "clean_data}` or `{status: FAILED, reason, errors, received_payload}`, as the original validator "
    "answered, so its n8n workflow works unchanged; `ignored_fields` names the undeclared top-level fields "
    "a contract with `unknown_fields: ignore` left out, and each error also has the original's `msg` and "
    "`input`. When no default contract is set, or the one set is not loaded, every request "
    "answers a 404 problem saying how to set one.",
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {}}}}},
)
async def validate_original(request: Request) -> Response:
    """Decide on the body; no storage."""
    settings = request.app.state.gateway.settings
    limits = BodyLimits.of(settings)
    view = RequestView.of_request(request)
    body = await read_body(request.stream(), limits, view.declared_size)
    default = request.app.state.default_contract
    return reply_response(validate_reply(default, view, settings.limits, body, limits.max_bytes))
