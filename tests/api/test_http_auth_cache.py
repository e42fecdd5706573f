"""The key cache: what the store says of keys is trusted for auth_cache_seconds, no longer, across handles."""

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sigma_aetl.core.keys import ApiKey, presented_token
from sigma_aetl.errors import StoreError
from sigma_aetl.http import create_app
from sigma_aetl.http.auth import KeyCache, needed_scope
from sigma_aetl.settings import Settings
from sigma_aetl.stores import Store, open_store
from sigma_aetl.stores.keys import issue, now
from sigma_aetl.testing import ServerThread


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        """The time the test set."""
        return self.now


@pytest.fixture
def handles(tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    """Two handles on one SQLite store: the gateway's, and an operator's beside it."""
    url = f"sqlite:///{tmp_path}/keys.db"
    gateway, operator = open_store(url), open_store(url)
    yield gateway, operator
    gateway.close()
    operator.close()


def test_a_key_created_elsewhere_closes_the_gateway_once_the_bound_has_passed(
    handles: tuple[Store, Store],
) -> None:
    """An open gateway stays open within the bound after a key appears, and is closed right after it."""
    gateway, operator = handles
    clock = Clock()
    cache = KeyCache(gateway, 1.0, clock)
    assert asyncio.run(cache.closed()) is False
    issue(operator, "new", ["read"])
    clock.now += 0.99
    assert asyncio.run(cache.closed()) is False
    clock.now += 0.01
    assert asyncio.run(cache.closed()) is True


def test_a_key_revoked_elsewhere_is_refused_once_the_bound_has_passed(handles: tuple[Store, Store]) -> None:
    """A token's key is re-read from the store once its answer is older than the bound."""
    gateway, operator = handles
    issued = issue(operator, "producer", ["read"])
    clock = Clock()
    cache = KeyCache(gateway, 1.0, clock)
    assert asyncio.run(cache.lookup(issued.token)).key == issued.key
    operator.revoke_key(issued.key.key_id, now())
    clock.now += 0.5
    still = asyncio.run(cache.lookup(issued.token)).key
    assert still is not None
    assert still.active
    clock.now += 0.5
    revoked = asyncio.run(cache.lookup(issued.token)).key
    assert revoked is not None
    assert not revoked.active


def test_an_unknown_token_is_remembered_as_unknown_within_the_bound(handles: tuple[Store, Store]) -> None:
    """A token no key has costs one store lookup per bound, however often it is sent."""
    gateway, _ = handles
    clock = Clock()
    cache = KeyCache(gateway, 1.0, clock)
    first = asyncio.run(cache.lookup("sgk_nobody"))
    assert first.key is None
    assert asyncio.run(cache.lookup("sgk_nobody")) is first


def test_revocation_reaches_a_running_gateway_within_the_default_bound(tmp_path: Path) -> None:
    """With the default one-second cache, a key revoked by another handle is refused within about 1 s."""
    settings = Settings(
        store_url=f"sqlite:///{tmp_path}/g.db", contracts_dir=Path(__file__).parents[2] / "contracts"
    )
    assert settings.auth_cache_seconds == 1.0
    operator = open_store(settings.store_url)
    try:
        issued = issue(operator, "producer", ["read"])
        with ServerThread(create_app(settings)) as server, httpx.Client(base_url=server.url) as http:
            headers = {"x-api-key": issued.token}
            assert http.get("/v1/stats", headers=headers).status_code == 200
            operator.revoke_key(issued.key.key_id, now())
            revoked = time.monotonic()
            while http.get("/v1/stats", headers=headers).status_code == 200:
                assert time.monotonic() - revoked < 1.5, "still accepted after the bound"
                time.sleep(0.05)
    finally:
        operator.close()


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("POST", "/v1/ingest/shipment/1", "ingest:shipment"),
        ("POST", "/api/validate", "ingest:shipment"),
        ("GET", "/v1/failures/fail_1/raw", "read:raw"),
        ("GET", "/v1/failures/fail_1", "read"),
        ("GET", "/docs", "read"),
        ("HEAD", "/v1/stats", "read"),
        ("POST", "/v1/ingest/shipment", "admin"),
        ("DELETE", "/v1/failures", "admin"),
        ("POST", "/v1/replay", "admin"),
    ],
)
def test_each_route_needs_the_scope_of_its_row(method: str, path: str, scope: str) -> None:
    """The route table maps ingest to its contract, reads to read, raw bytes to read:raw, others to admin."""
    assert needed_scope(method, path, "shipment") == scope


def test_validate_without_a_default_contract_needs_ingest_any() -> None:
    """With no default contract set, POST /api/validate needs ingest:* (it then answers 404 anyway)."""
    assert needed_scope("POST", "/api/validate", None) == "ingest:*"


@pytest.mark.parametrize(
    ("headers", "token"),
    [
        ({"authorization": "Bearer abc"}, "abc"),
        ({"authorization": "bearer   abc  "}, "abc"),
        ({"x-api-key": " abc "}, "abc"),
        ({"authorization": "Bearer abc", "x-api-key": "other"}, "abc"),
        ({"authorization": "Basic abc"}, None),
        ({"authorization": "Bearer "}, None),
        ({}, None),
    ],
)
def test_the_token_is_read_from_a_bearer_or_x_api_key(headers: dict[str, str], token: str | None) -> None:
    """A Bearer credential wins over X-API-Key; any other scheme or an empty value is no token."""
    assert presented_token(headers) == token


class CountingStore:
    """A store's has_keys, counting its calls and taking a while, as a remote store does."""

    def __init__(self) -> None:
        self.calls = 0

    def has_keys(self) -> bool:
        """No key; counted."""
        self.calls += 1
        time.sleep(0.05)
        return False


def test_requests_that_find_the_answer_stale_together_ask_the_store_once() -> None:
    """Concurrent requests arriving when the cached answer expired share one store call."""
    store = CountingStore()
    cache = KeyCache(store, 1.0, Clock())  # type: ignore[arg-type]

    async def many() -> list[bool]:
        return await asyncio.gather(*(cache.closed() for _ in range(20)))

    assert asyncio.run(many()) == [False] * 20
    assert store.calls == 1


def test_requests_with_a_stale_token_together_read_its_key_once(handles: tuple[Store, Store]) -> None:
    """Concurrent requests with one token whose answer expired share one store lookup."""
    gateway, operator = handles
    issued = issue(operator, "producer", ["read"])
    reads: list[str] = []
    find = gateway.find_key

    def counting(digest: str) -> ApiKey | None:
        reads.append(digest)
        return find(digest)

    gateway.find_key = counting  # type: ignore[method-assign,assignment]
    cache = KeyCache(gateway, 1.0, Clock())

    async def key() -> ApiKey | None:
        return (await cache.lookup(issued.token)).key

    async def many() -> list[ApiKey | None]:
        return await asyncio.gather(*(key() for _ in range(20)))

    assert set(asyncio.run(many())) == {issued.key}
    assert len(reads) == 1


class SlowStore:
    """A store's has_keys that takes 50 ms (as a remote store may), answering in turn from ``answers``."""

    def __init__(self, *answers: bool | Exception) -> None:
        self.answers = list(answers)
        self.calls = 0

    def has_keys(self) -> bool:
        """The next answer (an exception is raised); counted."""
        time.sleep(0.05)
        answer = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        if isinstance(answer, Exception):
            raise answer
        return answer


async def settled(cache: KeyCache, store: SlowStore, calls: int) -> None:
    """Wait (at most 2 s) until the store has been asked ``calls`` times and the read behind is applied."""
    deadline = time.monotonic() + 2
    while store.calls < calls and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.02)


def test_a_request_past_half_the_bound_does_not_wait_for_the_store() -> None:
    """Past half the bound the cached answer comes at once, and the store is read behind the request."""
    store = SlowStore(False, True)
    clock = Clock()
    cache = KeyCache(store, 1.0, clock)  # type: ignore[arg-type]

    async def scenario() -> tuple[bool, float, int, bool]:
        await cache.closed()
        clock.now += 0.6
        began = time.perf_counter()
        ahead = await cache.closed()
        waited = time.perf_counter() - began
        asked = store.calls
        await settled(cache, store, 2)
        return ahead, waited, asked, await cache.closed()

    ahead, waited, asked, after = asyncio.run(scenario())
    assert ahead is False  # still within the bound: the answer read at 100.0
    assert waited < 0.04  # the 50 ms read ran behind it
    assert asked == 1
    assert after is True  # the read behind it saw the key
    assert store.calls == 2


def test_an_answer_read_ahead_is_trusted_from_when_its_read_began() -> None:
    """A refreshed answer expires one bound after its read began: past that, requests wait for the store."""
    store = SlowStore(False)
    clock = Clock()
    cache = KeyCache(store, 1.0, clock)  # type: ignore[arg-type]

    async def scenario() -> int:
        await cache.closed()
        clock.now += 0.6
        await cache.closed()  # read ahead, begun at 100.6
        await settled(cache, store, 2)
        clock.now += 0.99  # 101.59: within the bound of the read begun at 100.6
        await cache.closed()
        await settled(cache, store, 3)  # read ahead again (past half), not waited for
        return store.calls

    assert asyncio.run(scenario()) == 3
    clock.now += 1.0  # past every answer's bound: this request waits for a read of its own
    began = time.perf_counter()
    asyncio.run(cache.closed())
    assert time.perf_counter() - began >= 0.05
    assert store.calls == 4


def test_a_failed_read_ahead_keeps_the_answer_until_its_bound() -> None:
    """A store error behind the request is logged, the answer stays within its bound, then the error shows."""
    store = SlowStore(False, StoreError("store gone"))
    clock = Clock()
    cache = KeyCache(store, 1.0, clock)  # type: ignore[arg-type]

    async def scenario() -> bool:
        await cache.closed()
        clock.now += 0.6
        answer = await cache.closed()
        await settled(cache, store, 2)
        return answer

    assert asyncio.run(scenario()) is False
    assert asyncio.run(cache.closed()) is False  # 100.6: the answer of 100.0 is still within its bound
    clock.now += 0.4
    with pytest.raises(StoreError, match="store gone"):
        asyncio.run(cache.closed())


def test_a_token_read_ahead_sees_its_revocation_before_the_bound(handles: tuple[Store, Store]) -> None:
    """A token's key past half its bound is read behind the request; a later one sees the revocation."""
    gateway, operator = handles
    issued = issue(operator, "producer", ["read"])
    clock = Clock()
    cache = KeyCache(gateway, 1.0, clock)

    async def scenario() -> tuple[bool, bool]:
        await cache.lookup(issued.token)
        operator.revoke_key(issued.key.key_id, now())
        clock.now += 0.6
        ahead = await cache.lookup(issued.token)
        for _ in range(200):
            await asyncio.sleep(0.01)
            known = await cache.lookup(issued.token)
            if known.key is not None and not known.key.active:
                break
        assert ahead.key is not None
        assert known.key is not None
        return ahead.key.active, known.key.active

    assert asyncio.run(scenario()) == (True, False)
