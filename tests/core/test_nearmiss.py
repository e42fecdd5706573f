"""Near-miss fields: an unexpected field that closely matches a missing one, found deterministically."""

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sigma_aetl.core.decision import FieldError, LocPart
from sigma_aetl.core.explain import format_path
from sigma_aetl.core.nearmiss import allowed_edits, distance, fold, match, near_misses
from sigma_aetl.core.taxonomy import RootCause, Stage


def missing(*loc: LocPart) -> FieldError:
    """A missing-field error at ``loc``."""
    return _error(loc, "missing", RootCause.MISSING_FIELD)


def unexpected(*loc: LocPart) -> FieldError:
    """An unexpected-field error at ``loc``."""
    return _error(loc, "extra_forbidden", RootCause.UNEXPECTED_FIELD)


def _error(loc: tuple[LocPart, ...], kind: str, cause: RootCause) -> FieldError:
    path = format_path(loc)
    return FieldError(
        path=path, loc=loc, type=kind, root_cause=cause, stage=Stage.SCHEMA, message=kind, explanation=path
    )


def pairs(*errors: FieldError) -> list[tuple[str, str, str, int]]:
    """The near misses as (missing, unexpected, reason, distance)."""
    return [(m.missing, m.unexpected, m.reason, m.distance) for m in near_misses(errors)]


@pytest.mark.parametrize("sent", ["shipmentId", "shipment-id", "ShipmentID", "SHIPMENT_ID", "shipment id"])
def test_case_and_separator_changes_are_near_misses(sent: str) -> None:
    """A camelCase, kebab-case or upper-case spelling of a missing field is a near miss of distance 0."""
    assert pairs(missing("shipment_id"), unexpected(sent)) == [("shipment_id", sent, "case_or_separators", 0)]


@pytest.mark.parametrize(
    ("required", "sent", "edits"),
    [("priority", "prority", 1), ("destination", "destinaton", 1), ("weight_kg", "wieght_kg", 1)],
)
def test_small_misspellings_are_near_misses(required: str, sent: str, edits: int) -> None:
    """A missing field misspelt by a letter or two (a swap counts one) is a near miss."""
    assert pairs(missing(required), unexpected(sent)) == [(required, sent, "edit_distance", edits)]


@pytest.mark.parametrize(("required", "sent"), [("id", "ip"), ("sku", "skew"), ("name", "note"), ("a", "b")])
def test_short_names_need_more_than_an_edit(required: str, sent: str) -> None:
    """Two short names a letter or two apart are not a near miss: the bound is relative to length."""
    assert pairs(missing(required), unexpected(sent)) == []


def test_nested_near_misses_stay_within_one_object() -> None:
    """Nested fields match only a sibling in the same object (same array index too)."""
    errors = (
        missing("items", 0, "sku_id"),
        unexpected("items", 0, "skuId"),
        missing("items", 1, "sku_id"),
        unexpected("items", 2, "skuId"),
        missing("customer", "country"),
        unexpected("country"),
    )
    assert pairs(*errors) == [("items[0].sku_id", "items[0].skuId", "case_or_separators", 0)]


def test_each_field_is_paired_once_best_first() -> None:
    """Two candidates for one missing field: the closer one wins, and the other is left unpaired."""
    errors = (missing("shipment_id"), unexpected("shipmnt_id"), unexpected("ShipmentId"))
    assert pairs(*errors) == [("shipment_id", "ShipmentId", "case_or_separators", 0)]


def test_other_errors_are_ignored() -> None:
    """Errors that are neither missing nor unexpected fields, and whole-payload errors, pair with nothing."""
    wrong = _error(("shipment_id",), "string_type", RootCause.TYPE_MISMATCH)
    assert pairs(wrong, unexpected("shipmentId"), _error((), "missing", RootCause.MISSING_FIELD)) == []


words = st.lists(st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=6), min_size=1, max_size=4)


@st.composite
def respelt(draw: st.DrawFn) -> tuple[str, str]:
    """A snake_case name, and the same words with other case and separators."""
    parts = draw(words)
    joiners = draw(
        st.lists(st.sampled_from(["", "_", "-", " ", "."]), min_size=len(parts), max_size=len(parts))
    )
    variant = "".join(
        joiner + "".join(c.upper() if draw(st.booleans()) else c for c in part)
        for joiner, part in zip(joiners, parts, strict=True)
    )
    return "_".join(parts), variant


@given(respelt())
def test_any_respelling_is_a_near_miss(names: tuple[str, str]) -> None:
    """Any change of case and separators of a name is a near miss of distance 0."""
    required, sent = names
    if required == sent:
        return
    assert pairs(missing(required), unexpected(sent)) == [(required, sent, "case_or_separators", 0)]


locs = st.tuples(st.sampled_from(["", "items[0]", "customer"]), st.text("abcdeAB_-", min_size=1, max_size=8))


def _at(parent: str, name: str) -> tuple[LocPart, ...]:
    return {"": (name,), "items[0]": ("items", 0, name), "customer": ("customer", name)}[parent]


@given(st.lists(locs, max_size=6), st.lists(locs, max_size=6), st.randoms(use_true_random=False))
def test_near_misses_do_not_depend_on_error_order(
    absent: list[tuple[str, str]], sent: list[tuple[str, str]], rng: Any
) -> None:
    """The same errors in any order give the same near misses, each field in at most one of them."""
    errors = [missing(*_at(*loc)) for loc in absent] + [unexpected(*_at(*loc)) for loc in sent]
    shuffled = list(errors)
    rng.shuffle(shuffled)
    found = near_misses(errors)
    assert found == near_misses(shuffled)
    assert len({m.missing for m in found}) == len(found) == len({m.unexpected for m in found})
    assert found == sorted(found, key=lambda m: (m.missing, m.unexpected))


names = st.text("abcdefghij_-", max_size=12)


@given(names, names)
def test_distance_is_symmetric_and_bounded(first: str, second: str) -> None:
    """The edit distance is symmetric, zero only for equal strings, and at most the longer length."""
    assert distance(first, second) == distance(second, first)
    assert (distance(first, second) == 0) == (first == second)
    assert distance(first, second) <= max(len(first), len(second))


@given(names, names)
def test_a_match_is_within_the_length_bound(first: str, second: str) -> None:
    """A near miss by edits never exceeds the bound its names' length allows, and short names need folding."""
    found = match(first, second)
    if found is None or found[0] == "case_or_separators":
        return
    left, right = fold(first), fold(second)
    assert 0 < found[1] <= allowed_edits(left, right) <= 2
    assert max(len(left), len(right)) >= 4
