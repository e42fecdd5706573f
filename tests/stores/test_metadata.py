"""Which request headers a store keeps apart (``stores/metadata.py``): large HTTP ones, each set once."""

import dataclasses

from hypothesis import given
from hypothesis import strategies as st

from sigma_aetl.core import serial
from sigma_aetl.stores import metadata
from store_support import failure
from strategies import request_headers


def _http(headers: dict[str, str], index: int = 0) -> dict[str, object]:
    return {"kind": "http", "request_id": "r", "headers": headers, "index": index}


def test_large_headers_are_named_by_key_once_per_request() -> None:
    """Events sharing large headers name one key, in the place of ``headers``, and the headers come once."""
    headers = {"user-agent": "x" * 1000}
    failures = [dataclasses.replace(failure(f"k{i}"), source=_http(headers, i)) for i in range(3)]
    parts = metadata.split([], failures)
    assert len(parts.headers) == 1
    key = next(iter(parts.headers))
    assert [list(f.source) for f in parts.failures] == [["kind", "request_id", "headers_sha256", "index"]] * 3
    assert {f.source["headers_sha256"] for f in parts.failures} == {key}
    assert metadata.joined(parts.failures, lambda keys: {k: parts.headers[k] for k in keys}) == failures


def test_small_headers_and_other_sources_stay_inline() -> None:
    """Headers of at most INLINE_HEADERS bytes of JSON, and sources other than HTTP, are left as they are."""
    small = dataclasses.replace(failure("a"), source=_http({"user-agent": "curl/8"}))
    kafka = dataclasses.replace(failure("b"), source={"kind": "kafka", "headers": {"h": "x" * 1000}})
    parts = metadata.split([], [small, kafka])
    assert parts.failures == [small, kafka]
    assert parts.headers == {}


@given(st.lists(request_headers, min_size=1, max_size=4), st.integers(min_value=1, max_value=5))
def test_split_then_joined_gives_back_every_record(requests: list[dict[str, str]], events: int) -> None:
    """Whatever the headers, splitting a write and joining it back gives the records as they were, and
    each distinct large set of headers is kept once."""
    failures = [
        dataclasses.replace(failure(f"k{r}-{i}"), source=_http(headers, i))
        for r, headers in enumerate(requests)
        for i in range(events)
    ]
    parts = metadata.split([], failures)
    assert metadata.joined(parts.failures, lambda keys: {k: parts.headers[k] for k in keys}) == failures
    large = {serial.dumps(h) for h in requests if len(serial.dumps(h)) > metadata.INLINE_HEADERS}
    assert len(parts.headers) == len(large)
