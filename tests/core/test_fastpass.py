"""The compiled pass's parse (fastpass.flat_parsed) against today's parse: same Parsed, same decisions,
records, failure records and Rows, for both backends, on valid, near-valid and hostile payloads."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from contract_support import REPO_CONTRACTS, order_contract, order_twin, shipment_twin
from sigma_aetl.contracts.loader import load_file
from sigma_aetl.core.contract import Contract
from sigma_aetl.core.decision import Decision
from sigma_aetl.core.envelope import Envelope
from sigma_aetl.core.fastpass import flat_parsed
from sigma_aetl.core.jsonparse import Limits, parse
from sigma_aetl.core.records import AcceptedRecord, FailureRecord, build_record
from sigma_aetl.core.validator import DEFAULT_LIMITS, validate_noting
from sigma_aetl.stores.sqlite.rows import Rows, rows_of
from strategies import dumps, event_payloads

many = settings(max_examples=300, deadline=None)
_SHIPMENT = load_file(REPO_CONTRACTS / "shipment" / "v1.py", REPO_CONTRACTS)
_COMPAT = load_file(REPO_CONTRACTS / "shipment_compat" / "v1.py", REPO_CONTRACTS)
CONTRACTS = [_SHIPMENT, shipment_twin(_SHIPMENT), _COMPAT, order_contract(), order_twin()]
_AT = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
limits = st.sampled_from([DEFAULT_LIMITS, Limits(max_bytes=40), Limits(max_depth=0), Limits(max_depth=1)])


@contextmanager
def todays_path() -> Iterator[None]:
    """Today's path: the validator with the compiled pass's parse switched off."""
    with mock.patch("sigma_aetl.core.validator.flat_parsed", return_value=None):
        yield


def envelope(contract: Contract, raw: bytes) -> Envelope:
    """A file envelope for ``raw``, addressed to ``contract``."""
    return Envelope(
        contract=contract.name,
        version=str(contract.version),
        raw=raw,
        received_at=_AT,
        source={"kind": "file", "path": "/data/events.jsonl", "line": 1},
    )


def rows(record: AcceptedRecord | FailureRecord) -> Rows:
    """The Rows a write of ``record`` alone builds."""
    if isinstance(record, AcceptedRecord):
        return rows_of([record], [], {})
    return rows_of([], [record], {})


@many
@given(event_payloads(), limits)
def test_flat_parsed_gives_what_parse_gives(raw: bytes, bounds: Limits) -> None:
    """Wherever the compiled pass's parse answers, it answers exactly what today's parse does."""
    fast = flat_parsed(raw, bounds)
    if fast is not None:
        assert fast == parse(raw, bounds)
        assert type(fast.value) is dict


_plain_text = st.text("abcdefXYZ0123456789-_éü", min_size=1, max_size=20)
common_shipments = st.fixed_dictionaries(
    {
        "shipment_id": _plain_text,
        "weight_kg": st.integers(1, 99999).map(lambda cents: cents / 100),
        "destination": _plain_text,
        "priority": st.integers(1, 3),
    }
)


@many
@given(common_shipments)
def test_the_common_event_takes_the_compiled_pass(shipment: dict[str, Any]) -> None:
    """A compact, flat shipment of plain text and numbers is read by the compiled pass, not today's parse."""
    assert flat_parsed(dumps(shipment), DEFAULT_LIMITS) is not None


@many
@given(event_payloads(), st.sampled_from(CONTRACTS), limits)
def test_decisions_records_and_rows_are_todays(raw: bytes, contract: Contract, bounds: Limits) -> None:
    """Decisions, ignored fields, records, failure records and Rows are today's, for both backends."""
    new = validate_noting(contract, raw, bounds)
    with todays_path():
        old = validate_noting(contract, raw, bounds)
    assert new == old
    decision: Decision = new[0]
    new_record = build_record(envelope(contract, raw), decision, contract)
    old_record = build_record(envelope(contract, raw), old[0], contract)
    assert new_record == old_record
    assert rows(new_record) == rows(old_record)
