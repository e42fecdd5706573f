"""The baseline: a validator written the way the original SIGMA-AETL validator was.

One FastAPI endpoint, ``async def validate(payload: dict)``: FastAPI parses the body into a dict, a lax
Pydantic model (no strict mode, so ``"2"`` becomes ``2``) is built with ``Model(**payload)``, a
``ValidationError`` becomes a FAILED answer with ``e.errors()``, the weight rule runs in Python, and a
``JSONResponse`` answers. Run it under uvicorn with one worker::

    python -m uvicorn bench.baseline_app:app --port 8001 --log-level warning

Every HTTP figure of the gateway is reported beside this one, measured alternately in the same run.
"""

from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError

app = FastAPI(title="SIGMA-AETL baseline validator")


class ShipmentPayload(BaseModel):
    """The shipment contract as the original validator declared it: lax types, unknown fields ignored."""

    shipment_id: str = Field(..., min_length=1)
    weight_kg: float = Field(..., gt=0)
    destination: str = Field(..., min_length=1)
    priority: int = Field(..., ge=1, le=3)


def _failed(reason: str, errors: Any, payload: dict[str, Any]) -> dict[str, Any]:
    return {"status": "FAILED", "reason": reason, "errors": errors, "received_payload": payload}


def judge(payload: dict[str, Any]) -> dict[str, Any]:
    """The original validator's answer for ``payload``: schema first, then the weight rule."""
    try:
        shipment = ShipmentPayload(**payload)
    except ValidationError as exc:
        return _failed("Schema validation failed", exc.errors(), payload)
    business_errors: list[str] = []
    if shipment.weight_kg > 1000:
        business_errors.append("weight_kg exceeds maximum allowed limit")
    if business_errors:
        return _failed("Business rule violation", business_errors, payload)
    return {"status": "PASSED", "clean_data": shipment.model_dump()}


@app.post("/api/validate")
async def validate(payload: dict) -> JSONResponse:  # type: ignore[type-arg] # the seed's signature
    """Validate one shipment; always HTTP 200 with PASSED or FAILED."""
    return JSONResponse(status_code=200, content=judge(payload))
