"""Read-only diagnoses: of one failure, and of one failure class (docs/diagnostics.md)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from sigma_aetl.core.classes import CLASS_ID
from sigma_aetl.core.diagnosis import Diagnosis, ProducerDrift
from sigma_aetl.http.auth import reveals_raw
from sigma_aetl.http.masking import MASKED_CLIENT
from sigma_aetl.http.problems import problem
from sigma_aetl.http.responses import json_response
from sigma_aetl.ingest.diagnosis import diagnose
from sigma_aetl.ingest.gateway import Gateway

router = APIRouter(tags=["diagnostics"])
AllContracts = Annotated[
    bool,
    Query(description="Also judge the payloads against every other loaded contract, not only this one's."),
]


def _gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


async def _diagnosis(request: Request, subject: str, all_contracts: bool) -> Diagnosis | None:
    gateway = _gateway(request)
    found = await run_in_threadpool(
        diagnose,
        gateway.store,
        gateway.registry,
        subject,
        all_contracts=all_contracts,
        limits=gateway.settings.limits,
    )
    exchange = getattr(request.state, "exchange", None)
    if found is None or exchange is None or reveals_raw(exchange.state):
        return found
    return masked(found)


def masked(found: Diagnosis) -> Diagnosis:
    """The diagnosis as a reader without read:raw sees it: client addresses in its drift masked, as they
    are in a failure's ``source``; everything else (errors, would-pass-as, near misses) as it is."""
    if found.drift is None:
        return found
    producers = [_masked_producer(item) for item in found.drift.producers]
    return found.model_copy(update={"drift": found.drift.model_copy(update={"producers": producers})})


def _masked_producer(item: ProducerDrift) -> ProducerDrift:
    if not item.producer.startswith("client:"):
        return item
    words = item.words.replace(item.producer, MASKED_CLIENT)
    return item.model_copy(update={"producer": MASKED_CLIENT, "words": words})


@router.get(
    "/v1/failures/{failure_id}/diagnosis",
    response_model=Diagnosis,
    summary="A failure's deterministic diagnosis: errors with hints, would-pass-as, near misses",
)
async def failure_diagnosis(
    failure_id: str, request: Request, all_contracts: AllContracts = False
) -> Response:
    """The failure's errors in words with a remediation hint each, the other contract versions its raw
    payload passes (judged again, read-only), and its near-miss fields; the same on every call. 404 for
    an unknown id."""
    found = await _diagnosis(request, failure_id, all_contracts) if failure_id.startswith("fail_") else None
    if found is None:
        return problem(404, f"No failure record has id {failure_id!r}.", instance=request.url.path)
    return json_response(found)


@router.get(
    "/v1/failure-classes/{class_id}/diagnosis",
    response_model=Diagnosis,
    summary="A failure class's deterministic diagnosis: errors, would-pass-as over its samples, drift",
)
async def class_diagnosis(class_id: str, request: Request, all_contracts: AllContracts = False) -> Response:
    """The class's errors in words with hints, the versions its sample failures pass, their near misses,
    and its drift (when it appeared; per producer, a producer that changed or a new one). 404 for an
    unknown id."""
    found = await _diagnosis(request, class_id, all_contracts) if CLASS_ID.fullmatch(class_id) else None
    if found is None:
        return problem(404, f"No failure class has id {class_id!r}.", instance=request.url.path)
    return json_response(found)
