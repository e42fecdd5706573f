"""Record cursors: opaque, bound to the store kind and the filters, and refused cleanly when they are not."""

import base64
import contextlib
from datetime import UTC, datetime

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sigma_aetl.errors import InvalidCursor
from sigma_aetl.stores import cursor
from sigma_aetl.stores.base import MAX_CURSOR, RecordQuery

instants = st.datetimes(max_value=datetime(9999, 1, 1), timezones=st.just(UTC))  # noqa: DTZ001 - naive bounds
queries = st.builds(
    RecordQuery,
    contract=st.none() | st.text(max_size=40),
    version=st.none() | st.integers(min_value=1, max_value=2**63 - 1),
    since=st.none() | instants,
    until=st.none() | instants,
)
kinds = st.sampled_from(["sqlite", "mongodb"])


@given(queries, kinds, st.none() | st.text(max_size=30))
def test_a_cursor_resumes_its_own_query_at_its_position(
    query: RecordQuery, kind: cursor.StoreKind, after: str | None
) -> None:
    """A cursor issued for a query gives back its position for that query, on that kind of store."""
    issued = cursor.issue(query, kind, after)
    assert issued.isascii()
    assert "=" not in issued
    assert cursor.resume(query.model_copy(update={"cursor": issued}), kind) == after


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=10) | st.just("sqlite"),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
bodies = st.fixed_dictionaries(
    {},
    optional={
        "v": st.just(1) | json_values,
        "store": kinds | json_values,
        "filters": json_values,
        "after": json_values,
    },
)
texts = st.text(max_size=MAX_CURSOR) | bodies.map(
    lambda body: base64.urlsafe_b64encode(orjson.dumps(body)).decode().rstrip("=")
)


@given(texts, kinds)
def test_any_text_is_a_position_or_invalid_cursor(text: str, kind: cursor.StoreKind) -> None:
    """Whatever a client sends as a cursor, resuming gives a position or InvalidCursor, nothing else."""
    with contextlib.suppress(InvalidCursor):
        cursor.resume(RecordQuery(cursor=text), kind)


def test_a_hand_made_cursor_with_an_absurd_instant_is_described_not_crashed() -> None:
    """A cursor whose filters hold an instant no datetime can hold is refused with what it holds."""
    body = {"v": 1, "store": "sqlite", "filters": {"since": 2**62}, "after": None}
    made = base64.urlsafe_b64encode(orjson.dumps(body)).decode()
    with pytest.raises(InvalidCursor, match=f"since={2**62}"):
        cursor.resume(RecordQuery(cursor=made), "sqlite")


def test_the_cursor_is_opaque_but_not_secret() -> None:
    """A cursor decodes to the store kind, the filters and the position: nothing more is in it."""
    issued = cursor.issue(RecordQuery(contract="shipment", version=1), "sqlite", "42")
    body = orjson.loads(base64.urlsafe_b64decode(issued + "=" * (-len(issued) % 4)))
    assert body == {
        "v": 1,
        "store": "sqlite",
        "filters": {"contract": "shipment", "version": 1, "since": None, "until": None},
        "after": "42",
    }
