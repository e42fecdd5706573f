"""Fast JSON responses: pre-serialised bytes, so routes skip FastAPI's generic encoder."""

from fastapi.responses import Response
from pydantic import BaseModel

from sigma_aetl.core import serial


def json_response(content: object, status: int = 200, *, exclude_none: bool = False) -> Response:
    """``content`` (a model, a core dataclass or plain JSON values) as ``application/json``;
    ``exclude_none`` drops a model's members that are null."""
    if isinstance(content, BaseModel):
        body = content.__pydantic_serializer__.to_json(content, exclude_none=exclude_none)
    else:
        body = serial.dumps(content)
    return Response(body, status_code=status, media_type="application/json")
