"""The advisor against a scripted Ollama server: advisories per class, retries, the breaker, restarts,
redaction; the failures it advises on are never touched."""

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from advisor_support import (
    advisor_settings,
    every_failure,
    ingest,
    run_advisor,
    three_kinds,
)
from contract_support import document, object_schema, write_json_contract
from sigma_aetl.advisor.runner import utc_now
from sigma_aetl.contracts.loader import load_registry
from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core.advisories import AdvisoryTarget
from sigma_aetl.scripted_ollama import ScriptedOllama, unreachable_url
from sigma_aetl.stores import Store, open_store
from sigma_aetl.stores.base import ClassQuery


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A SQLite store under ``tmp_path`` (the queue itself is in the stores' conformance suite)."""
    opened = open_store(f"sqlite:///{tmp_path}/gateway.db")
    yield opened
    opened.close()


def class_targets(store: Store) -> list[AdvisoryTarget]:
    """Every failure class of the store, as targets."""
    return [
        AdvisoryTarget(kind="class", id=found.class_id)
        for found in store.query_classes(ClassQuery(limit=1000)).items
    ]


def test_each_failure_class_gets_one_advisory_and_the_failures_are_untouched(
    tmp_path: Path, store: Store, registry: Registry
) -> None:
    """Three kinds of failure give three classes, one call and one ok advisory each; failures unchanged."""
    ingest(store, registry, three_kinds(4))
    before = every_failure(store)
    with ScriptedOllama("normal") as server:
        summary = run_advisor(advisor_settings(tmp_path, server.url), store, registry)
    assert (summary.enqueued, summary.outcomes["ok"], server.calls) == (3, 3, 3)
    assert store.advisory_queue() == {"queued": 0, "leased": 0, "done": 3, "failed": 0}
    for target in class_targets(store):
        (advisory,) = store.list_advisories(target)
        assert advisory.status == "ok"
        assert advisory.advice is not None
        assert (advisory.model, advisory.prompt_version, advisory.attempts) == ("qwen2.5:7b", "advisor-1", 1)
        assert len(advisory.sent_sha256) == 64
    assert every_failure(store) == before
    request = server.received[0]
    assert request["stream"] is False
    assert request["options"] == {"temperature": 0}
    assert request["format"]["required"] == [
        "summary",
        "probable_cause",
        "producer_fix",
        "contract_change",
        "confidence",
    ]


def test_a_second_run_asks_nothing_more(tmp_path: Path, store: Store, registry: Registry) -> None:
    """A class advised already is not enqueued or asked again: one advisory per class, ever."""
    ingest(store, registry, three_kinds(2))
    with ScriptedOllama("normal") as server:
        settings = advisor_settings(tmp_path, server.url)
        run_advisor(settings, store, registry)
        again = run_advisor(settings, store, registry)
    assert (again.enqueued, sum(again.outcomes.values()), server.calls) == (0, 0, 3)


@pytest.mark.parametrize(
    ("behaviour", "reason"), [("500", "HTTP 500: scripted failure"), ("garbage", "invalid answer")]
)
def test_failed_calls_are_retried_with_backoff_then_stored_as_an_advisory_error(
    tmp_path: Path, store: Store, registry: Registry, behaviour: str, reason: str
) -> None:
    """A call that fails is retried up to max attempts, then an advisory error is stored; never again."""
    ingest(store, registry, three_kinds(1))
    with ScriptedOllama(behaviour) as server:
        settings = advisor_settings(
            tmp_path, server.url, advisor_max_attempts=3, advisor_breaker_threshold=100
        )
        summary = run_advisor(settings, store, registry)
        assert (summary.outcomes["retried"], summary.outcomes["error"], server.calls) == (6, 3, 9)
        run_advisor(settings, store, registry)
        assert server.calls == 9
    assert store.advisory_queue() == {"queued": 0, "leased": 0, "done": 0, "failed": 3}
    for target in class_targets(store):
        (advisory,) = store.list_advisories(target)
        assert advisory.status == "error"
        assert advisory.advice is None
        assert advisory.attempts == 3
        assert advisory.error is not None
        assert advisory.error.startswith(reason)


def test_the_backoff_doubles_between_attempts(tmp_path: Path, store: Store, registry: Registry) -> None:
    """Attempts of one job are spaced by at least the backoff, doubled each time."""
    ingest(store, registry, [three_kinds(1)[0]])
    with ScriptedOllama("500") as server:
        settings = advisor_settings(tmp_path, server.url, advisor_backoff=0.2, advisor_max_attempts=3)
        started = utc_now()
        run_advisor(settings, store, registry)
        took = utc_now() - started
    assert server.calls == 3
    assert took >= timedelta(seconds=0.2 + 0.4)


def test_a_call_over_the_timeout_is_an_advisory_error(
    tmp_path: Path, store: Store, registry: Registry
) -> None:
    """A model slower than the timeout gives an advisory error saying it timed out."""
    ingest(store, registry, [three_kinds(1)[0]])
    with ScriptedOllama("slow", delay=2.0) as server:
        settings = advisor_settings(tmp_path, server.url, advisor_timeout=0.2, advisor_max_attempts=1)
        run_advisor(settings, store, registry)
    (target,) = class_targets(store)
    (advisory,) = store.list_advisories(target)
    assert advisory.error == "timed out after 0.2s"


def test_the_breaker_opens_after_consecutive_failures_and_closes_after_a_good_trial(
    tmp_path: Path, store: Store, registry: Registry
) -> None:
    """After threshold failures in a row no call is made until the cooldown; then one trial closes it."""
    ingest(store, registry, three_kinds(1))
    with ScriptedOllama("normal") as server:
        server.script = ["500", "500"]
        settings = advisor_settings(
            tmp_path,
            server.url,
            advisor_concurrency=1,
            advisor_breaker_threshold=2,
            advisor_breaker_cooldown=0.5,
            advisor_max_attempts=5,
        )
        advisor_store = store
        runs = asyncio.run(_runs(settings, advisor_store, registry, server, pauses=[0.0, 0.6]))
    assert runs == [("open", 2), ("open", 2), ("closed", 5)]
    assert store.advisory_queue()["done"] == 3


async def _runs(
    settings: object, store: Store, registry: Registry, server: ScriptedOllama, *, pauses: list[float]
) -> list[tuple[str, int]]:
    """``run_once`` of one advisor (the breaker is its own), then again after each pause: the breaker's
    state and the calls the server had received after each."""
    from sigma_aetl.advisor.client import OllamaModel  # noqa: PLC0415
    from sigma_aetl.advisor.runner import Advisor  # noqa: PLC0415
    from sigma_aetl.settings import Settings  # noqa: PLC0415

    assert isinstance(settings, Settings)
    assert settings.advisor_url is not None
    model = OllamaModel(settings.advisor_url, settings.advisor_timeout)
    advisor = Advisor(settings, store, registry, model)
    states: list[tuple[str, int]] = [((await advisor.run_once()).breaker, server.calls)]
    try:
        for pause in pauses:
            await asyncio.sleep(pause)
            states.append(((await advisor.run_once()).breaker, server.calls))
    finally:
        await model.close()
    return states


def test_a_restarted_advisor_resumes_the_queue_and_takes_over_expired_leases(
    tmp_path: Path, registry: Registry
) -> None:
    """Jobs queued by an advisor that stopped, and one leased by one that died, are done after a restart."""
    url = f"sqlite:///{tmp_path}/gateway.db"
    first = open_store(url)
    ingest(first, registry, three_kinds(2))
    down = advisor_settings(tmp_path, unreachable_url(), advisor_breaker_threshold=1)
    summary = run_advisor(down, first, registry)
    assert summary.breaker == "open"
    assert summary.queue["queued"] == 3
    first.lease_advisory_jobs("a dead advisor", utc_now(), timedelta(0), 1)  # its lease has run out
    first.close()
    reopened = open_store(url)
    try:
        assert reopened.advisory_queue()["leased"] == 1
        with ScriptedOllama("normal") as server:
            again = run_advisor(advisor_settings(tmp_path, server.url), reopened, registry)
        assert (again.enqueued, again.outcomes["ok"], server.calls) == (0, 3, 3)
        assert reopened.advisory_queue() == {"queued": 0, "leased": 0, "done": 3, "failed": 0}
    finally:
        reopened.close()


def test_sensitive_and_long_values_never_reach_the_model(tmp_path: Path) -> None:
    """A field marked x-sensitive and a value over the limit are redacted or cut before anything is sent."""
    secret, long_value = "alice.secret@example.com", "Z" * 5000
    schema = object_schema(
        {
            "id": {"type": "string"},
            "email": {"type": "string", "maxLength": 5, "x-sensitive": True},
            "note": {"type": "string", "maxLength": 10},
            "age": {"type": "integer"},
        }
    )
    contracts = tmp_path / "contracts"
    write_json_contract(contracts, document("person", 1, schema, identity=["id"]))
    registry = load_registry(contracts)
    url = f"sqlite:///{tmp_path}/gateway.db"
    store = open_store(url)
    payload = f'{{"id": "p1", "email": "{secret}", "note": "{long_value}"}}'.encode()
    from advisor_support import envelopes  # noqa: PLC0415
    from sigma_aetl.ingest.pipeline import Pipeline  # noqa: PLC0415

    (outcome,) = Pipeline(registry, store).process(envelopes([payload], contract="person"))
    assert outcome.failure_id is not None
    with ScriptedOllama("normal") as server:
        settings = advisor_settings(tmp_path, server.url, contracts, advisor_scope="failure")
        run_advisor(settings, store, registry)
        sent = server.received_text()
    store.close()
    assert server.calls == 1
    assert secret not in sent
    assert "alice" not in sent
    assert "Z" * 65 not in sent
    assert "[redacted]" in sent
    assert "[5000 chars]" in sent


def test_an_open_breaker_holds_the_sync_back_until_the_model_answers_again(
    tmp_path: Path, store: Store, registry: Registry
) -> None:
    """While the breaker is open the running advisor adds no job; the first run with a model answering adds
    every class that arrived meanwhile."""
    ingest(store, registry, three_kinds(1)[:1])
    down = advisor_settings(
        tmp_path,
        unreachable_url(),
        advisor_breaker_threshold=1,
        advisor_breaker_cooldown=60,
        advisor_poll_interval=0.05,
    )
    queued_while_open = asyncio.run(_queue_while_open(down, store, registry))
    assert queued_while_open == 1
    with ScriptedOllama("normal") as server:
        summary = run_advisor(advisor_settings(tmp_path, server.url), store, registry)
    assert (summary.enqueued, summary.outcomes["ok"]) == (2, 3)


async def _queue_while_open(settings: object, store: Store, registry: Registry) -> int:
    """Run an advisor whose breaker opens at once, ingest two new classes, let it poll ten times: the jobs."""
    from sigma_aetl.advisor.client import OllamaModel  # noqa: PLC0415
    from sigma_aetl.advisor.runner import Advisor  # noqa: PLC0415
    from sigma_aetl.settings import Settings  # noqa: PLC0415

    assert isinstance(settings, Settings)
    assert settings.advisor_url is not None
    model = OllamaModel(settings.advisor_url, settings.advisor_timeout)
    advisor, stop = Advisor(settings, store, registry, model), asyncio.Event()
    running = asyncio.create_task(advisor.run(stop))
    try:
        for _ in range(200):
            if advisor.breaker.state == "open":
                break
            await asyncio.sleep(0.01)
        assert advisor.breaker.state == "open"
        ingest(store, registry, three_kinds(1)[1:], received_at=utc_now())  # seen by an incremental sync
        await asyncio.sleep(0.5)
        return sum(store.advisory_queue().values())
    finally:
        stop.set()
        await running
        await model.close()
