"""The two hot endpoints as framework-free handlers: bytes and a request view in, a reply out.

Both the ASGI fast path (``fastpath.py``) and the documented FastAPI routes call these, so each endpoint's
behaviour is written once.
"""

import asyncio

from sigma_aetl.core import serial
from sigma_aetl.core.contract import Contract
from sigma_aetl.core.decision import Decision, FieldError
from sigma_aetl.core.envelope import Envelope
from sigma_aetl.core.jsonparse import Limits, Parsed, parse
from sigma_aetl.core.taxonomy import Stage
from sigma_aetl.core.validator import validate
from sigma_aetl.errors import StoreError, StoreUnavailable
from sigma_aetl.http.body import TooLarge
from sigma_aetl.http.envelopes import RequestInfo, envelope, is_batch, request_info, split_batch
from sigma_aetl.http.reply import Reply, problem_reply
from sigma_aetl.http.schemas import BatchResult, BatchSummary
from sigma_aetl.http.view import RequestView
from sigma_aetl.ingest.gateway import Gateway
from sigma_aetl.ingest.groupcommit import GroupCommitter
from sigma_aetl.ingest.outcome import Outcome


def validate_reply(contract: Contract, limits: Limits, body: bytes | TooLarge, request_limit: int) -> Reply:
    """``POST /api/validate``: the original validator's answer; nothing is stored."""
    if isinstance(body, TooLarge):
        return problem_reply(
            413, f"The request body exceeds {request_limit} bytes.", "/api/validate", limit=request_limit
        )
    return Reply(200, serial.dumps(validate_answer(validate(contract, body, limits), body, limits)))


def validate_answer(decision: Decision, raw: bytes, limits: Limits) -> dict[str, object]:
    """The original API's answer for ``decision``: a :class:`ValidateResult` without its null members."""
    if decision.passed:
        return {"status": "PASSED", "clean_data": decision.data}
    schema_failed = any(error.stage != Stage.BUSINESS_RULE for error in decision.errors)
    answer = {
        "status": "FAILED",
        "reason": "Schema validation failed" if schema_failed else "Business rule violation",
        "root_cause": decision.root_cause,
        "errors": [_without_nulls(error) for error in decision.errors],
        "received_payload": _received(raw, limits),
    }
    return _without_nulls(answer)


def _without_nulls(value: object) -> dict[str, object]:
    items = value.items() if isinstance(value, dict) else ((n, getattr(value, n)) for n in _ERROR_FIELDS)
    return {name: item for name, item in items if item is not None}


_ERROR_FIELDS = tuple(FieldError.__dataclass_fields__)


def _received(raw: bytes, limits: Limits) -> object:
    parsed = parse(raw, limits)
    if isinstance(parsed, Parsed):
        return parsed.value
    return raw.decode("utf-8", errors="backslashreplace")


class Ingestor:
    """``POST /v1/ingest/{contract}/{version}``: validate and store through group commit."""

    def __init__(self, gateway: Gateway, committer: GroupCommitter) -> None:
        self.gateway = gateway
        self.committer = committer

    async def ingest(self, view: RequestView, contract: str, version: str, body: bytes | TooLarge) -> Reply:
        """One outcome for a single event, or the batch's outcomes and summary."""
        info = request_info(view)
        try:
            if isinstance(body, TooLarge):
                return await self._too_large(info, body, contract, version)
            if not is_batch(view, body):
                outcomes = await self._store([envelope(info, body, contract, version)])
                return Reply(200, serial.dumps(outcomes[0]))
            raws = split_batch(view, body)
            results = await self._store(
                [envelope(info, raw, contract, version, index=i) for i, raw in enumerate(raws)]
            )
            return Reply(200, serial.dumps(BatchResult(results, BatchSummary.of(results))))
        except StoreError as exc:
            status = 503 if isinstance(exc, StoreUnavailable) else 500
            detail = f"The store failed; nothing was stored for this request. Retrying is safe. ({exc})"
            return problem_reply(status, detail, view.path)

    async def _store(self, envelopes: list[Envelope]) -> list[Outcome]:
        """Submit in group-sized parts; answer once every part is stored."""
        size = self.committer.max_events
        if len(envelopes) <= size:
            return await self.committer.store(envelopes)
        parts = [self.committer.store(envelopes[i : i + size]) for i in range(0, len(envelopes), size)]
        stored = await asyncio.gather(*parts)
        return [outcome for part in stored for outcome in part]

    async def _too_large(self, info: RequestInfo, body: TooLarge, contract: str, version: str) -> Reply:
        limit = self.gateway.settings.max_request_bytes
        oversized = envelope(info, body.prefix, contract, version)
        outcome = await self.committer.store_oversized(oversized, body.size, limit)
        detail = (
            f"The request body exceeds {limit} bytes. A failure record keeps its first bytes; "
            "split the batch or send smaller events."
        )
        return problem_reply(413, detail, info.metadata["path"], failure_id=outcome.failure_id, limit=limit)
