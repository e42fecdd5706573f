"""``POST /api/validate``: the original SIGMA-AETL validator, stateless and wire-compatible."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from sigma_aetl.contracts.model import Contract
from sigma_aetl.core.decision import Decision
from sigma_aetl.core.jsonparse import Limits, Parsed, parse
from sigma_aetl.core.taxonomy import Stage
from sigma_aetl.core.validator import validate
from sigma_aetl.gateway import Gateway
from sigma_aetl.http.body import TooLarge, read_body
from sigma_aetl.http.problems import problem
from sigma_aetl.http.responses import json_response
from sigma_aetl.http.schemas import CompatResult

router = APIRouter(tags=["compatibility"])


@router.post(
    "/api/validate",
    response_model=CompatResult,
    summary="Validate one event (original SIGMA-AETL API)",
    description="Checks the body against the default contract (`SIGMA_AETL_DEFAULT_CONTRACT`, shipment@1) "
    "and stores nothing. Always HTTP 200: `{status: PASSED, clean_data}` or `{status: FAILED, reason, "
    "errors, received_payload}`, as the original validator answered, so its n8n workflow works unchanged.",
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {}}}}},
)
async def validate_compat(request: Request) -> Response:
    """Decide on the body; no storage."""
    gateway: Gateway = request.app.state.gateway
    contract: Contract = request.app.state.default_contract
    body = await read_body(request, gateway.settings.max_request_bytes)
    if isinstance(body, TooLarge):
        limit = gateway.settings.max_request_bytes
        return problem(413, f"The request body exceeds {limit} bytes.", instance="/api/validate", limit=limit)
    limits = gateway.settings.limits
    return json_response(compat(validate(contract, body, limits), body, limits), exclude_none=True)


def compat(decision: Decision, raw: bytes, limits: Limits) -> CompatResult:
    """The original API's answer for ``decision``."""
    if decision.passed:
        return CompatResult(status="PASSED", clean_data=decision.data)
    schema_failed = any(error.stage != Stage.BUSINESS_RULE for error in decision.errors)
    return CompatResult(
        status="FAILED",
        reason="Schema validation failed" if schema_failed else "Business rule violation",
        root_cause=decision.root_cause,
        errors=list(decision.errors),
        received_payload=_received(raw, limits),
    )


def _received(raw: bytes, limits: Limits) -> object:
    parsed = parse(raw, limits)
    if isinstance(parsed, Parsed):
        return parsed.value
    return raw.decode("utf-8", errors="backslashreplace")
