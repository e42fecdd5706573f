"""Fast JSON responses: pre-serialised bytes, so routes skip FastAPI's generic encoder."""

from fastapi.responses import Response
from pydantic import BaseModel

from sigma_aetl.core import serial
from sigma_aetl.core.records import RawPayload

OCTET_STREAM = "application/octet-stream"


def json_response(content: object, status: int = 200, *, exclude_none: bool = False) -> Response:
    """``content`` (a model, a core dataclass or plain JSON values) as ``application/json``;
    ``exclude_none`` drops a model's members that are null."""
    if isinstance(content, BaseModel):
        body = content.__pydantic_serializer__.to_json(content, exclude_none=exclude_none)
    else:
        body = serial.dumps(content)
    return Response(body, status_code=status, media_type="application/json")


def raw_response(raw: RawPayload) -> Response:
    """A stored event's bytes exactly as received, with their size as received, and whether only a prefix
    was kept (an event over the hard body limit): ``X-Raw-Size``, ``X-Raw-Truncated``, ``X-Raw-SHA256``
    (of the bytes served)."""
    headers = {
        "x-raw-size": str(raw.size),
        "x-raw-truncated": "true" if raw.truncated else "false",
        "x-raw-sha256": raw.sha256,
    }
    return Response(raw.to_bytes(), media_type=OCTET_STREAM, headers=headers)
