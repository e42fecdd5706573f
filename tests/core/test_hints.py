"""Remediation hints: every error type the validator, routing and records can produce has its own hint.

The types are not listed here by hand: they are collected from a corpus of failing payloads run through
both backends (the JSON Schema conformance corpus, the type and order twins, shipment@1 and its twin),
the parser's limits, routing and an identity conflict. A new error type without a hint fails the test.
"""

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from contract_support import order_contract, order_twin, shipment_twin
from contracts.backends.test_backend_equivalence import CORPUS as SHIPMENT_CORPUS
from contracts.backends.test_json_schema_conformance import CORPUS as CONFORMANCE
from contracts.backends.test_json_schema_conformance import contract as conformance_contract
from contracts.backends.test_order_twins import CORPUS as ORDER_CORPUS
from contracts.backends.test_type_twins import CORPUS as ZOO_CORPUS
from contracts.backends.test_type_twins import ZOO_SCHEMA, Zoo
from sigma_aetl.contracts import jsonschema_contract, pydantic_contract
from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core.contract import Contract
from sigma_aetl.core.envelope import Envelope
from sigma_aetl.core.hints import BY_ROOT_CAUSE, HINTS, hint, hint_for
from sigma_aetl.core.jsonparse import Limits
from sigma_aetl.core.records import accepted_record, conflict_record
from sigma_aetl.core.taxonomy import RootCause
from sigma_aetl.core.validator import validate
from sigma_aetl.testing import VALID_SHIPMENT

TRANSPORT = [
    b"\xff\xfe{}",
    b"\xef\xbb\xbf{}",
    b'{"a": ',
    b"[" * 100 + b"]" * 100,
    b'{"shipment_id": "S", "shipment_id": "T"}',
    b'{"shipment_id": "S-1", "weight_kg": 1.00000000000000001, "destination": "C", "priority": 1}',
    b"[]",
    b"x" * 300,
]
"""Payloads the parser (under a 256-byte, 64-deep limit) or the shape check rejects before any backend."""


def _types(contract: Contract, payloads: list[bytes], limits: Limits = Limits()) -> Iterator[str]:
    for raw in payloads:
        yield from (error.type for error in validate(contract, raw, limits).errors)


def _conformance_types() -> Iterator[str]:
    for index, group in enumerate(CONFORMANCE):
        failing = [json.dumps(case["data"]).encode() for case in group["tests"] if not case["valid"]]
        yield from _types(conformance_contract(index), failing)


def _routing_types(registry: Registry) -> Iterator[str]:
    for name, version in ((None, None), ("nope", "1"), ("shipment", "99")):
        found = registry.route(name, version)
        assert not isinstance(found, Contract)
        yield found.type


def _conflict_type(shipment: Contract) -> str:
    envelope = Envelope(raw=VALID_SHIPMENT, contract="shipment", version="1", received_at=datetime.now(UTC))
    decision = validate(shipment, VALID_SHIPMENT)
    assert decision.data is not None
    stored = accepted_record(envelope, {**decision.data, "destination": "Elsewhere"}, shipment)
    return conflict_record(envelope, stored, shipment.identity).errors[0].type


@pytest.fixture(scope="module")
def produced(registry: Registry, shipment: Contract) -> set[str]:
    """Every error type the corpus makes the validator, routing and records produce."""
    zoo = pydantic_contract(name="zoo", version=1, model=Zoo)
    zoo_twin = jsonschema_contract(name="zoo", version=1, schema=ZOO_SCHEMA)
    found = set(_conformance_types())
    for contract, corpus in (
        (shipment, SHIPMENT_CORPUS),
        (shipment_twin(shipment), SHIPMENT_CORPUS),
        (zoo, ZOO_CORPUS),
        (zoo_twin, ZOO_CORPUS),
        (order_contract(), ORDER_CORPUS),
        (order_twin(), ORDER_CORPUS),
    ):
        found.update(_types(contract, corpus))
    found.update(_types(shipment, TRANSPORT, Limits(max_bytes=256)))
    found.update(_routing_types(registry))
    found.add(_conflict_type(shipment))
    return found


def test_every_error_type_produced_has_its_own_hint(produced: set[str]) -> None:
    """Each error type the corpus produces, in either backend, has a hint written for it."""
    assert len(produced) >= 40, sorted(produced)  # the corpus really reaches the backends' keywords
    assert sorted(kind for kind in produced if hint_for(kind) is None) == []


def test_the_corpus_reaches_both_backends_and_the_core(produced: set[str]) -> None:
    """The corpus produces Pydantic types, JSON Schema keywords, parser and routing types alike."""
    expected = {"missing", "greater_than", "required", "exclusiveMinimum", "anyOf", "invalid_utf8"}
    expected |= {
        "duplicate_key",
        "nesting_too_deep",
        "inexact_number",
        "unknown_version",
        "identity_conflict",
        "business_rule",
    }
    assert expected <= produced


def test_every_root_cause_has_a_fallback_hint() -> None:
    """An error type no entry names still gets a hint: its root cause's."""
    assert set(BY_ROOT_CAUSE) == set(RootCause)
    assert (
        hint("a_contracts_own_error", RootCause.CONSTRAINT_VIOLATION)
        == BY_ROOT_CAUSE[RootCause.CONSTRAINT_VIOLATION]
    )


def test_pydantic_type_families_share_the_type_hint() -> None:
    """``<type>_type`` and ``<type>_parsing`` errors get the type hint; an unknown type gets None."""
    assert hint_for("uuid_type") == hint_for("type") == hint_for("bytes_parsing")
    assert hint_for("no_such_error") is None
    assert all(text.endswith(".") for text in HINTS.values())
