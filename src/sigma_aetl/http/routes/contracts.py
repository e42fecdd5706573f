"""Read-only views of the loaded contracts."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from sigma_aetl.contracts.registry import Registry
from sigma_aetl.contracts.summary import ContractDetail, ContractSummary, summaries
from sigma_aetl.core.decision import FieldError
from sigma_aetl.http.problems import problem
from sigma_aetl.http.responses import json_response

router = APIRouter(tags=["contracts"])


def _registry(request: Request) -> Registry:
    registry: Registry = request.app.state.gateway.registry
    return registry


@router.get("/v1/contracts", response_model=list[ContractSummary], summary="Every contract version")
async def list_contracts(request: Request) -> Response:
    """Every loaded version, by name then version, with its state (draft or released) and fingerprint."""
    return json_response([summary.model_dump(mode="json") for summary in summaries(_registry(request))])


@router.get(
    "/v1/contracts/{name}/{version}",
    response_model=ContractDetail,
    summary="One version with its JSON Schema",
)
async def get_contract(name: str, version: str, request: Request) -> Response:
    """The version's state, definition, fingerprint and JSON Schema, or 404."""
    registry = _registry(request)
    found = registry.route(name, version)
    if isinstance(found, FieldError):
        return problem(404, found.message, instance=request.url.path)
    return json_response(ContractDetail.of(found, registry.state(found)))
