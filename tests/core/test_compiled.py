"""The compiled pass (core/compiled.accepted) against today's path (validate, then build_record, without the
flat parse): the same records, byte for byte, and the same decisions, for both backends, on valid,
near-valid and hostile payloads; and through the pipeline, the same batch of records."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ConfigDict, Field

from contract_support import REPO_CONTRACTS, object_schema, order_contract, order_twin, shipment_twin
from sigma_aetl.contracts import ContractModel, Rule, pydantic_contract
from sigma_aetl.contracts.backends.json_schema import jsonschema_contract
from sigma_aetl.contracts.loader import load_file
from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core import serial
from sigma_aetl.core.compiled import accepted
from sigma_aetl.core.contract import Contract
from sigma_aetl.core.decision import Decision
from sigma_aetl.core.envelope import Envelope
from sigma_aetl.core.fastpass import flat_parsed
from sigma_aetl.core.jsonparse import Limits
from sigma_aetl.core.records import AcceptedRecord, FailureRecord, StoredRecord, build_record
from sigma_aetl.core.validator import DEFAULT_LIMITS, validate
from sigma_aetl.ingest.pipeline import Pipeline
from sigma_aetl.stores.sqlite.rows import Rows, rows_of
from strategies import dumps, event_payloads, json_scalars, serialised

many = settings(max_examples=300, deadline=None)
_AT = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
limits = st.sampled_from(
    [DEFAULT_LIMITS, DEFAULT_LIMITS, Limits(max_bytes=60), Limits(max_depth=0), Limits(max_depth=1)]
)


class Pickup(ContractModel):
    """A flat event whose rule compares two instants (a rule kind the schema gives)."""

    pickup_id: str = Field(min_length=1)
    ready_at: datetime
    collect_by: datetime
    depot: str | None = None


class Note(ContractModel):
    """A flat, open event without identity fields: its id is made of the whole data."""

    model_config = ConfigDict(strict=True, extra="allow", frozen=True)
    text: str


_COLLECTED = Rule(
    name="collected_after_ready",
    field="collect_by",
    op="ge",
    other_field="ready_at",
    message="A pickup is collected after it is ready.",
)
_INSTANT = {"type": "string", "format": "date-time"}
_PICKUP_SCHEMA = object_schema(
    {
        "pickup_id": {"type": "string", "minLength": 1},
        "ready_at": _INSTANT,
        "collect_by": _INSTANT,
        "depot": {"anyOf": [{"type": "string"}, {"type": "null"}]},
    },
    required=["pickup_id", "ready_at", "collect_by"],
)
PICKUP = pydantic_contract(name="pickup", version=1, model=Pickup, identity=["pickup_id"], rules=[_COLLECTED])
PICKUP_TWIN = jsonschema_contract(
    name="pickup", version=1, schema=_PICKUP_SCHEMA, identity=["pickup_id"], rules=[_COLLECTED]
)
NOTE = pydantic_contract(name="note", version=1, model=Note)
_SHIPMENT = load_file(REPO_CONTRACTS / "shipment" / "v1.py", REPO_CONTRACTS)
_COMPAT = load_file(REPO_CONTRACTS / "shipment_compat" / "v1.py", REPO_CONTRACTS)
CONTRACTS = [
    _SHIPMENT,
    shipment_twin(_SHIPMENT),
    _COMPAT,
    order_contract(),
    order_twin(),
    PICKUP,
    PICKUP_TWIN,
]

_offsets = st.sampled_from([UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5, minutes=-30))])
_NAIVE_BOUNDS = (datetime(1990, 1, 1), datetime(2090, 1, 1))  # noqa: DTZ001 — Hypothesis takes naive bounds
_instants = st.one_of(
    st.datetimes(*_NAIVE_BOUNDS, timezones=_offsets).map(datetime.isoformat),
    st.sampled_from(["2026-12-02T12:00:00Z", "2026-12-02T12:00:00", "2026-13-02T12:00:00Z", "", "now"]),
)
_letters = st.text("abcXYZ019-_ é", max_size=8)
_cents = st.integers(-(10**7), 10**7).map(lambda cents: cents / 100)
_plain = st.one_of(_letters, _letters, _letters, st.text('ab"\\{[:}é', max_size=4))
"""Text a flat object holds: mostly plain, sometimes quotes, braces and colons (the compiled parse must
tell those from structure)."""
_scalars = st.one_of(_plain, _plain, _cents, st.integers(-(10**6), 10**6), json_scalars)
pickups = st.fixed_dictionaries(
    {"pickup_id": _plain, "ready_at": _instants, "collect_by": _instants},
    optional={"depot": st.one_of(st.none(), _plain, _scalars), "extra": _scalars},
)
notes = st.dictionaries(_plain, _scalars, max_size=4).map(lambda extra: {"text": "hello", **extra})
shipments = st.fixed_dictionaries(
    {
        "shipment_id": _plain,
        "weight_kg": st.one_of(_cents, st.integers(0, 1200)),
        "destination": _plain,
        "priority": st.one_of(st.integers(1, 3), st.integers(1, 3), st.integers(0, 4), _scalars),
    },
    optional={"note": _scalars},
)


@st.composite
def addressed(draw: st.DrawFn) -> tuple[Contract, bytes]:
    """A contract and a payload for it: the shared hostile payloads, or pickups, notes and flat shipments,
    compact or spaced."""
    contract = draw(st.sampled_from([*CONTRACTS, NOTE]))
    if contract.name == "pickup":
        value: dict[str, Any] = draw(pickups)
    elif contract.name == "note":
        value = draw(notes)
    elif contract.name.startswith("shipment") and draw(st.integers(0, 3)):
        value = draw(shipments)
    else:
        return contract, draw(event_payloads())
    return contract, draw(st.one_of(st.just(dumps(value)), st.just(dumps(value)), serialised(value)))


@contextmanager
def todays_path() -> Iterator[None]:
    """Today's path: the validator without the flat parse, and the pipeline without the compiled pass."""
    with (
        mock.patch("sigma_aetl.core.validator.flat_parsed", return_value=None),
        mock.patch("sigma_aetl.core.compiled.accepted", return_value=None),
    ):
        yield


def envelope(contract: Contract, raw: bytes, line: int = 1) -> Envelope:
    """A file envelope for ``raw``, addressed to ``contract``."""
    return Envelope(
        contract=contract.name,
        version=str(contract.version),
        raw=raw,
        received_at=_AT,
        source={"kind": "file", "path": "/data/events.jsonl", "line": line, "offset": 0},
        location=("file", "/data/events.jsonl", str(line)),
    )


def rows(record: StoredRecord) -> Rows:
    """The Rows a write of ``record`` alone builds."""
    if isinstance(record, AcceptedRecord):
        return rows_of([record], [], {})
    return rows_of([], [record], {})


@many
@given(addressed(), limits)
def test_the_compiled_pass_builds_todays_record(case: tuple[Contract, bytes], bounds: Limits) -> None:
    """Where the compiled pass builds a record, it is today's record, its JSON and its rows byte for byte;
    where it gives a decision instead, that is today's decision."""
    contract, raw = case
    event = envelope(contract, raw)
    fast = accepted(contract, event, bounds)
    with todays_path():
        decision = validate(contract, raw, bounds)
    today = build_record(event, decision, contract)
    if isinstance(fast, AcceptedRecord):
        assert fast == today
        assert serial.dumps(fast) == serial.dumps(today)
        assert rows(fast) == rows(today)
    elif isinstance(fast, Decision):
        assert fast == decision
        assert isinstance(today, FailureRecord) or contract.unknown_fields == "ignore"
    else:
        assert flat_parsed(raw, bounds) is None


@many
@given(st.one_of(st.tuples(st.just(PICKUP), pickups), st.tuples(st.just(NOTE), notes)))
def test_a_valid_flat_event_takes_the_compiled_pass(case: tuple[Contract, dict[str, Any]]) -> None:
    """A compact flat event the contract accepts is built by the compiled pass, not decided the usual way."""
    contract, value = case
    raw = dumps(value)
    event = envelope(contract, raw)
    if validate(contract, raw).passed and flat_parsed(raw, DEFAULT_LIMITS) is not None:
        assert isinstance(accepted(contract, event, DEFAULT_LIMITS), AcceptedRecord)


def test_the_common_shipment_takes_the_compiled_pass() -> None:
    """The bench's valid shipment is built by the compiled pass; a heavy one gets its failing decision."""
    good = b'{"shipment_id":"S1","weight_kg":134.73,"destination":"Cork","priority":2}'
    heavy = good.replace(b"134.73", b"1200.5")
    assert isinstance(accepted(_SHIPMENT, envelope(_SHIPMENT, good), DEFAULT_LIMITS), AcceptedRecord)
    decision = accepted(_SHIPMENT, envelope(_SHIPMENT, heavy), DEFAULT_LIMITS)
    assert isinstance(decision, Decision)
    assert [error.rule for error in decision.errors] == ["max_weight"]


@settings(max_examples=60, deadline=None)
@given(st.lists(addressed(), min_size=1, max_size=12))
def test_a_batch_prepares_as_today(cases: list[tuple[Contract, bytes]]) -> None:
    """Through the pipeline, a mixed batch gives today's records, first arrivals and failures, in order."""
    registry = Registry([_SHIPMENT, _COMPAT, order_contract(), PICKUP, NOTE])
    pipeline = Pipeline(registry, mock.Mock())  # prepare is pure: the store is never touched
    batch = [envelope(contract, raw, line) for line, (contract, raw) in enumerate(cases, 1)]
    fast = pipeline.prepare(batch)
    with todays_path():
        today = pipeline.prepare(batch)
    assert fast == today
    assert [serial.dumps(item.record) for item in fast.items] == [
        serial.dumps(item.record) for item in today.items
    ]
