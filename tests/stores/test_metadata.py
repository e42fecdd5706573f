"""Which request headers a store keeps apart (``stores/metadata.py``): large HTTP ones, each set once."""

import dataclasses

from sigma_aetl.stores import metadata
from store_support import failure


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
