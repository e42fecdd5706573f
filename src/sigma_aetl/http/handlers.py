"""The two hot endpoints as framework-free handlers: bytes and a request view in, a reply out.

Both the ASGI fast path (``fastpath.py``) and the documented FastAPI routes call these, so each endpoint's
behaviour is written once.
"""

import asyncio
from dataclasses import dataclass

from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core import serial
from sigma_aetl.core.contract import Contract
from sigma_aetl.core.decision import Decision, FieldError
from sigma_aetl.core.envelope import Envelope
from sigma_aetl.core.jsonparse import Limits, Parsed, parse
from sigma_aetl.core.taxonomy import Stage
from sigma_aetl.core.validator import validate_noting
from sigma_aetl.errors import ContractNotFound, StoreError
from sigma_aetl.http.body import Body, TimedOut, TooLarge
from sigma_aetl.http.coordinates import BadCoordinates
from sigma_aetl.http.envelopes import (
    RequestInfo,
    envelope,
    is_batch,
    oversized_envelope,
    request_info,
    split_batch,
)
from sigma_aetl.http.mediatypes import refuse_ingest, refuse_validate
from sigma_aetl.http.original_api import ignored_answer, original_error
from sigma_aetl.http.problems import store_failure
from sigma_aetl.http.reply import Reply, problem_reply
from sigma_aetl.http.schemas import BatchResult, BatchSummary
from sigma_aetl.http.view import RequestView
from sigma_aetl.ingest.gateway import Gateway
from sigma_aetl.ingest.groupcommit import GroupCommitter
from sigma_aetl.ingest.outcome import Outcome

_VALIDATE = "/api/validate"
_HOW_TO_SET = (
    "Set it with SIGMA_AETL_DEFAULT_CONTRACT=NAME@VERSION or `sigma-aetl serve --default-contract "
    "NAME@VERSION`, or send events to POST /v1/ingest/{contract}/{version}, which names its contract."
)


@dataclass(frozen=True, slots=True)
class DefaultContract:
    """What ``POST /api/validate`` checks against, resolved once when the app is built: the configured
    contract when it is loaded, else the 404 problem that says why there is none and how to set one."""

    target: Contract | Reply
    setting: str | None
    """The ``default_contract`` setting as configured (None: unset)."""

    @property
    def contract(self) -> Contract | None:
        """The contract, or None when the route answers 404."""
        return self.target if isinstance(self.target, Contract) else None

    @classmethod
    def resolve(cls, registry: Registry, setting: str | None) -> "DefaultContract":
        """The setting looked up among the loaded contracts; not found is no error, only a 404 later."""
        if setting is None:
            return cls(_no_default("POST /api/validate has no default contract set.", None), None)
        try:
            return cls(registry.require(setting), setting)
        except ContractNotFound:
            loaded = ", ".join(c.ref for c in registry.all()) or "none"
            detail = (
                f"POST /api/validate checks events against its default contract, {setting}, which is not "
                f"loaded (loaded: {loaded})."
            )
            return cls(_no_default(detail, setting), setting)


def _no_default(detail: str, setting: str | None) -> Reply:
    return problem_reply(404, f"{detail} {_HOW_TO_SET}", _VALIDATE, default_contract=setting)


def validate_reply(
    default: DefaultContract, view: RequestView, limits: Limits, body: Body, request_limit: int
) -> Reply:
    """``POST /api/validate``: the original validator's answer; nothing is stored. Without a default
    contract loaded, the 404 problem that says how to set one; a body that is not JSON by its content
    type, 415 (see ``mediatypes.py``); a body that did not arrive in time, 408."""
    if isinstance(body, TimedOut):
        return timed_out(body, _VALIDATE)
    contract = default.target
    if isinstance(contract, Reply):
        return contract
    refused = refuse_validate(view)
    if refused is not None:
        return refused
    if isinstance(body, TooLarge):
        detail = f"The request body exceeds {request_limit} bytes."
        return problem_reply(413, detail, _VALIDATE, close=body.sha256 is None, limit=request_limit)
    decision, ignored = validate_noting(contract, body, limits)
    answer = validate_answer(decision, body, limits) | ignored_answer(ignored)
    return Reply(200, serial.dumps(answer))


def timed_out(body: TimedOut, path: str) -> Reply:
    """408 for a body that had not arrived whole within the body timeout: nothing of it was stored."""
    detail = (
        f"The request body did not arrive whole within {body.timeout:g} seconds (the body timeout); "
        "nothing of it was judged or stored. Send the whole body promptly, or split it."
    )
    return problem_reply(408, detail, path, close=True, timeout=body.timeout)


def validate_answer(decision: Decision, raw: bytes, limits: Limits) -> dict[str, object]:
    """The original API's answer for ``decision``: a :class:`ValidateResult` without its null members;
    each error also carries the original validator's ``msg`` and ``input`` (see original_api.py)."""
    if decision.passed:
        return {"status": "PASSED", "clean_data": decision.data}
    schema_failed = any(error.stage != Stage.BUSINESS_RULE for error in decision.errors)
    received = _received(raw, limits)
    answer = {
        "status": "FAILED",
        "reason": "Schema validation failed" if schema_failed else "Business rule violation",
        "root_cause": decision.root_cause,
        "errors": [original_error(_without_nulls(error), error, received) for error in decision.errors],
        "received_payload": received,
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

    async def ingest(self, view: RequestView, contract: str, version: str, body: Body) -> Reply:
        """One outcome for a single event, or the batch's outcomes and summary; 415 and nothing stored
        when the content type is not one it takes (see ``mediatypes.py``); 408 and nothing stored when
        the body did not arrive in time; 400 and nothing stored for malformed Kafka coordinates."""
        refused = refuse_ingest(view)
        if refused is not None:
            return refused
        if isinstance(body, TimedOut):
            return timed_out(body, view.path)
        try:
            info = request_info(view, self.gateway.settings.max_recorded_header_bytes)
        except BadCoordinates as exc:
            return problem_reply(400, f"{exc} Nothing was stored.", view.path)
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
            status, detail = store_failure(exc, view.path)
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
        oversized = oversized_envelope(info, body, contract, version)
        outcome = await self.committer.store_oversized(oversized, body.size, limit)
        detail = (
            f"The request body exceeds {limit} bytes. A failure record keeps its first bytes; "
            "split the batch or send smaller events."
        )
        return problem_reply(
            413,
            detail,
            info.metadata["path"],
            close=body.sha256 is None,  # its end was never read: the connection cannot go on
            failure_id=outcome.failure_id,
            limit=limit,
            size=body.size,
            size_unknown=body.size_unknown,
        )
