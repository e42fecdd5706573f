"""Fast JSON responses: pre-serialised bytes, so routes skip FastAPI's generic encoder."""

from typing import TYPE_CHECKING, Any

import orjson
from fastapi.responses import Response
from pydantic import BaseModel

if TYPE_CHECKING:
    from sigma_aetl.http.handlers import Reply


def json_response(
    content: BaseModel | dict[str, Any] | list[Any], status: int = 200, *, exclude_none: bool = False
) -> Response:
    """``content`` as ``application/json``; ``exclude_none`` drops members that are null."""
    if isinstance(content, BaseModel):
        body = content.__pydantic_serializer__.to_json(content, exclude_none=exclude_none)
    else:
        body = orjson.dumps(content)
    return Response(body, status_code=status, media_type="application/json")


def reply_response(reply: "Reply") -> Response:
    """A handler's reply as a Starlette response."""
    return Response(reply.body, status_code=reply.status, media_type=reply.media_type)
