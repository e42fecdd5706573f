"""Failure classes: a page of them, and one with its sample failures (issue 14; docs/diagnostics.md).

Scope ``read``, like every read view. A reader without ``read:raw`` sees the samples masked exactly as
``/v1/failures`` masks them (``masking.py``), and a class's ``client:`` producer labels (a client address,
which that masking hides) counted together as ``client:(masked)``.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from sigma_aetl.core import serial
from sigma_aetl.core.classes import CLASS_ID, FailureClass
from sigma_aetl.core.records import FailureRecord
from sigma_aetl.http.auth import reveals_raw
from sigma_aetl.http.masking import MASKED_CLIENT, masked_failure
from sigma_aetl.http.problems import problem
from sigma_aetl.http.responses import json_response
from sigma_aetl.ingest.gateway import Gateway
from sigma_aetl.stores.base import ClassPage, ClassQuery

router = APIRouter(tags=["diagnostics"])


class ClassDetail(BaseModel):
    """One failure class and its sample failure records (the ids in ``class.samples`` still stored)."""

    model_config = ConfigDict(populate_by_name=True)

    failure_class: FailureClass = Field(alias="class", description="The class.")
    samples: list[FailureRecord] = Field(
        description="Its sample failures, in the class's order; masked without read:raw."
    )


def _gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


def _reveals_raw(request: Request) -> bool:
    exchange = getattr(request.state, "exchange", None)
    return exchange is None or reveals_raw(exchange.state)


@router.get(
    "/v1/failure-classes",
    response_model=ClassPage,
    summary="Failure classes: which failures are the same problem, most failures (or most recent) first",
)
async def list_classes(request: Request, query: Annotated[ClassQuery, Query()]) -> Response:
    """One page of classes with the total matching the filters; ``next_offset`` continues it. Listing
    costs the same with 100 failures or 10 million: classes are counted as failures are written."""
    page = await run_in_threadpool(_gateway(request).store.query_classes, query)
    if _reveals_raw(request):
        return json_response(page)
    doc = page.model_dump(mode="json", exclude={"items"})
    return json_response({**doc, "items": [masked_class(item) for item in page.items]})


@router.get(
    "/v1/failure-classes/{class_id}",
    response_model=ClassDetail,
    summary="One failure class, with its sample failure records",
)
async def get_class(class_id: str, request: Request) -> Response:
    """The class and its samples, or 404 for an id no class has (or that is not a class id)."""
    store = _gateway(request).store
    found = await run_in_threadpool(store.get_class, class_id) if CLASS_ID.fullmatch(class_id) else None
    if found is None:
        return problem(404, f"No failure class has id {class_id!r}.", instance=request.url.path)
    samples = [s for s in [await run_in_threadpool(store.get_failure, i) for i in found.samples] if s]
    if _reveals_raw(request):
        return json_response({"class": serial.jsonable(found), "samples": serial.jsonable(samples)})
    return json_response({"class": masked_class(found), "samples": [masked_failure(s) for s in samples]})


def masked_class(found: FailureClass) -> dict[str, Any]:
    """The class as JSON, its ``client:`` producer labels counted together (see the module docstring)."""
    doc: dict[str, Any] = serial.jsonable(found)
    producers: dict[str, int] = {}
    for label, count in found.producers.items():
        key = MASKED_CLIENT if label.startswith("client:") else label
        producers[key] = producers.get(key, 0) + count
    doc["producers"] = producers
    return doc
