"""One NAME@VERSION grammar for every face."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sigma_aetl.core.refs import ContractRef, parse_ref

PART = st.text(st.characters(blacklist_characters="@="), min_size=1).filter(
    lambda part: not any(char.isspace() for char in part)
)


@given(PART, PART)
def test_a_reference_reads_back_as_written(name: str, version: str) -> None:
    """Any name and version without whitespace, ``@`` or ``=`` round-trip through parse_ref and str."""
    ref = parse_ref(f"{name}@{version}")
    assert ref == ContractRef(name, version)
    assert str(ref) == f"{name}@{version}"


@pytest.mark.parametrize(
    "text", ["shipment", "shipment@", "@1", "a@b@c", "ship ment@1", "t=shipment@1", "", "   "]
)
def test_anything_else_is_refused_with_the_expected_form(text: str) -> None:
    """A reference that is not exactly NAME@VERSION raises ValueError naming the expected form."""
    with pytest.raises(ValueError, match=r"write NAME@VERSION, for example shipment@1"):
        parse_ref(text)


def test_surrounding_whitespace_is_ignored() -> None:
    """Spaces around a reference (from an environment variable or a file) do not change it."""
    assert parse_ref("  shipment@2\n") == ContractRef("shipment", "2")
