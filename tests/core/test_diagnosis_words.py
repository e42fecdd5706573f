"""The diagnosis's words and verdicts, from plain values: would-pass-as, drift, a class's errors."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sigma_aetl.core.decision import FieldError
from sigma_aetl.core.diagnosis import NotJudged, class_errors, drift, producer_drift, would_pass_as
from sigma_aetl.core.hints import HINTS
from sigma_aetl.core.taxonomy import RootCause, Stage

T0 = datetime(2026, 3, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Accepted:
    """What a producer had accepted under one version (the shape of ``ProducerActivity``)."""

    version: int
    accepted: int
    first_accepted: datetime


def test_one_payload_names_every_version_it_passes() -> None:
    """A single failure that passes two versions names both."""
    found = would_pass_as(
        "shipment@1", ["shipment@2", "shipment@3"], {"shipment@2": 1, "shipment@3": 1}, 1, []
    )
    assert (
        found.words
        == "It passes shipment@2 and shipment@3: the producer is sending shipment@2 payloads to shipment@1."
    )


def test_samples_that_pass_in_part_are_counted() -> None:
    """When only some samples pass, the words say how many of them."""
    found = would_pass_as("shipment@1", ["shipment@2"], {"shipment@2": 3}, 5, [])
    assert found.words.startswith("3 of 5 samples pass shipment@2")
    assert [p.model_dump() for p in found.passes] == [{"contract": "shipment@2", "passed": 3, "judged": 5}]


def test_nothing_to_try_and_nothing_passed_read_differently() -> None:
    """No other version loaded, none passed, and nothing judgeable each have their own words."""
    assert would_pass_as("a@1", [], {}, 1, []).words == (
        "No other version of this contract is loaded to judge it against (all contracts: every one)."
    )
    assert (
        would_pass_as("a@1", ["a@2"], {}, 1, []).words == "It passes none of the other versions tried (a@2)."
    )
    skipped = [NotJudged(failure_id="fail_x", reason="not valid UTF-8, so not JSON text")]
    assert would_pass_as("a@1", ["a@2"], {}, 0, skipped).words == (
        "Cannot be judged again: not valid UTF-8, so not JSON text."
    )


def test_a_producer_with_earlier_records_changed() -> None:
    """Records accepted before the class appeared make a producer that changed; none, a new one."""
    history = [Accepted(1, 40, T0 - timedelta(days=3)), Accepted(2, 2, T0 + timedelta(hours=1))]
    changed = producer_drift("key:key_a", 7, "shipment", T0, history)
    assert (changed.verdict, changed.accepted, changed.versions) == ("changed", 42, [1, 2])
    assert changed.words.endswith("a producer that changed.")
    late = producer_drift("key:key_b", 1, "shipment", T0, [Accepted(1, 5, T0 + timedelta(minutes=1))])
    assert late.verdict == "new"
    assert producer_drift("stdin", 1, None, T0, []).verdict == "unknown"


def test_drift_lists_producers_by_label() -> None:
    """A class's producers are listed by label, and the words count each verdict."""
    producers = [producer_drift(name, 1, "shipment", T0, []) for name in ("topic:b", "file:a")]
    found = drift(T0, T0 + timedelta(days=1), "fail_first", producers)
    assert [p.producer for p in found.producers] == ["file:a", "topic:b"]
    assert found.words.endswith("0 producer(s) that changed, 2 new.")


def test_a_class_without_samples_is_told_from_its_signature() -> None:
    """A class whose sample failures are gone still lists its errors, with hints, from its signature."""
    error = FieldError(
        path="items[2].sku",
        loc=("items", 2, "sku"),
        type="missing",
        root_cause=RootCause.MISSING_FIELD,
        stage=Stage.SCHEMA,
        message="Field required",
        explanation="items[2].sku: required, but the field is missing.",
    )
    signature = (("items[*].sku", "missing"), ("total", "greater_than"))
    told = class_errors(signature, [error], RootCause.MISSING_FIELD)
    assert [(e.path, e.explanation) for e in told] == [
        ("items[*].sku", "items[2].sku: required, but the field is missing."),
        ("total", "total: greater_than (no stored sample is left to explain it)."),
    ]
    assert told[1].hint == HINTS["greater_than"]
