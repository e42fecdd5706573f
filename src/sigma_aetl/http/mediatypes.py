"""The request content types the gateway ingests, and the 415 problem for every other one.

Only JSON content types are taken, and a request must name one. The point is cross-site requests: a web
page can make a browser POST to the gateway without asking it first (no CORS preflight) only with
``text/plain``, ``application/x-www-form-urlencoded``, ``multipart/form-data`` — or with no content type
at all (a ``fetch`` whose body is a ``Blob`` or an ``ArrayBuffer``). Any JSON type makes the browser ask
first, and the gateway answers no preflight, so a page a producer's browser visits cannot post events.
The bytes of an accepted body are still judged exactly as sent: a ``charset`` parameter changes nothing.

=======================  ==================================  =============================
content type             ``POST /v1/ingest/{c}/{v}``         ``POST /api/validate``
=======================  ==================================  =============================
``application/json``     one event, or a JSON array batch    one event
``application/*+json``   one event, or a JSON array batch    one event
NDJSON types             one event per line                  415
``application/json-seq`` one event per RFC 7464 record       415
anything else, or none   415, nothing stored                 415
=======================  ==================================  =============================
"""

from sigma_aetl.http.reply import Reply, problem_reply
from sigma_aetl.http.view import RequestView

JSON = "application/json"
JSON_SUFFIX = "+json"
NDJSON_TYPES = ("application/x-ndjson", "application/jsonl", "application/ndjson")
JSON_SEQ = "application/json-seq"
SINGLE_TYPES = (JSON, f"application/*{JSON_SUFFIX}")
"""What ``POST /api/validate`` takes: one JSON event."""
INGEST_TYPES = (*SINGLE_TYPES, *NDJSON_TYPES, JSON_SEQ)
"""What ``POST /v1/ingest/{contract}/{version}`` takes: one event or a batch."""


def is_single(media_type: str) -> bool:
    """``application/json`` or a structured ``application/...+json`` type (RFC 6839)."""
    if media_type == JSON:
        return True
    kind, slash, subtype = media_type.partition("/")
    return (
        kind == "application"
        and slash == "/"
        and len(subtype) > len(JSON_SUFFIX)
        and (subtype.endswith(JSON_SUFFIX))
    )


def is_ingestible(media_type: str) -> bool:
    """A type ``POST /v1/ingest`` takes: a single-event type, NDJSON or a JSON text sequence."""
    return is_single(media_type) or media_type in NDJSON_TYPES or media_type == JSON_SEQ


def refuse_ingest(view: RequestView) -> Reply | None:
    """The 415 problem when ``view`` does not name a type ``POST /v1/ingest`` takes; else None."""
    return None if is_ingestible(view.media_type) else _unsupported(view, INGEST_TYPES)


def refuse_validate(view: RequestView) -> Reply | None:
    """The 415 problem when ``view`` does not name a type ``POST /api/validate`` takes; else None."""
    return None if is_single(view.media_type) else _unsupported(view, SINGLE_TYPES)


def _unsupported(view: RequestView, accepted: tuple[str, ...]) -> Reply:
    sent = view.media_type
    said = f"Content-Type {sent}" if sent else "no Content-Type"
    detail = (
        f"The request has {said}; this endpoint takes {', '.join(accepted)}. Nothing was stored. "
        "Send the header that names the body's format."
    )
    return problem_reply(415, detail, view.path, accepted=list(accepted))
