"""The worker's admin endpoints, on its health port: the partitions the flood guard paused, and resuming one.

::

    GET  /admin/partitions                              every assigned partition: paused or not, why,
                                                        the alert that paused it
    POST /admin/partitions/{topic}/{partition}/resume   resume a paused partition (and re-arm its guard)

Both need an API key of scope ``admin`` once any key exists in the store, sent as ``Authorization: Bearer
<token>`` or ``X-API-Key: <token>``, exactly as the gateway checks it (``core/keys.py``: the token's
SHA-256 looked up with the store's ``find_key``); with no key at all they are open, like the gateway.
Every refusal is an RFC 9457 problem (``application/problem+json``): 401 without a valid key, 403
without the scope, 404 for a partition not assigned to this worker, 409 for one that is not paused,
422 for a partition that is not a number, 503 when the store cannot say whether a key is valid.

A resume is carried out by the worker's own thread between two batches (``pauses.py``); the answer waits
up to :data:`RESUME_WAIT` seconds for it: 200 once resumed, else 202 (it will be, before the next batch).
"""

import re
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

import orjson

from sigma_aetl import logs
from sigma_aetl.core.keys import ADMIN, MAX_TOKEN, grants, presented_token, token_hash
from sigma_aetl.errors import StoreError
from sigma_aetl.kafka.pauses import Pauses
from sigma_aetl.stores import Store

_log = logs.get("kafka.admin")

RESUME_WAIT = 5.0
"""Seconds a resume request waits for the worker to carry it out (one batch takes at most about
``batch_timeout`` plus its store write)."""
PROBLEM = "application/problem+json"
_RESUME = re.compile(r"/admin/partitions/(?P<topic>[^/]+)/(?P<partition>[^/]+)/resume")
Answer = tuple[int, bytes, str]
"""Status, body and media type."""


def problem(status: int, detail: str, instance: str, **extra: Any) -> Answer:
    """A problem-details answer."""
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "detail": detail}
    return status, orjson.dumps({**body, "instance": instance, **extra}), PROBLEM


def ok(status: int, body: dict[str, Any]) -> Answer:
    """A JSON answer."""
    return status, orjson.dumps(body), "application/json"


class Admin:
    """Answers the admin endpoints for one worker's partitions and store."""

    def __init__(self, pauses: Pauses, store: Store, wait: float = RESUME_WAIT) -> None:
        self.pauses = pauses
        self.store = store
        self.wait = wait

    def answer(self, method: str, target: str, headers: dict[str, str]) -> Answer:
        """The answer to ``method target`` (a path under ``/admin/``)."""
        path = target.partition("?")[0]
        refused = self._refused(path, headers)
        if refused is not None:
            return refused
        if path == "/admin/partitions":
            if method != "GET":
                return problem(405, f"{path} answers GET only.", path)
            return ok(200, {"partitions": [state.shown() for state in self.pauses.states()]})
        if (found := _RESUME.fullmatch(path)) is not None:
            if method != "POST":
                return problem(405, f"{path} answers POST only.", path)
            return self._resume(unquote(found["topic"]), unquote(found["partition"]), path)
        return problem(404, f"No admin endpoint matches {method} {path}.", path)

    def _refused(self, path: str, headers: dict[str, str]) -> Answer | None:
        """401, 403 or 503 when the request may not pass; None when it may (or no key exists)."""
        token = presented_token(headers)
        try:
            if not self.store.has_keys():
                return None
            key = self.store.find_key(token_hash(token)) if token and len(token) <= MAX_TOKEN else None
        except StoreError as exc:
            _log.error("admin.store_failed", path=path, error=str(exc))
            return problem(503, "The store is not available, so the API key cannot be checked.", path)
        if key is None or not key.active:
            detail = "An API key of scope admin is required: Authorization: Bearer <token> or X-API-Key."
            return problem(401, detail if token is None else "The API key is unknown or revoked.", path)
        if not grants(frozenset(key.scopes), ADMIN):
            detail = f"The API key {key.key_id} does not have the scope admin, which this request needs."
            return problem(403, detail, path, required_scope=ADMIN, key_id=key.key_id)
        return None

    def _resume(self, topic: str, number: str, path: str) -> Answer:
        if not number.isdigit():
            return problem(422, f"The partition must be a number, not {number!r}.", path)
        where = (topic, int(number))
        if not self.pauses.is_assigned(where) and not self.pauses.is_paused(where):
            return problem(404, f"Partition {topic}:{number} is not assigned to this worker.", path)
        done = self.pauses.ask_resume(where)
        if done is None:
            return problem(409, f"Partition {topic}:{number} is not paused.", path)
        _log.info("admin.resume_asked", partition=f"{topic}:{number}")
        resumed = done.wait(self.wait)
        body = {"topic": topic, "partition": int(number), "resumed": resumed}
        return ok(200 if resumed else 202, body)
