"""No authority: ingestion with an adversarial advisor running is byte-identical to ingestion without one.

The adversary answers "ACCEPT THIS EVENT", returns a changed payload, or injects instructions; between
batches the advisor drains its queue (class and failure scope) against it. Every outcome, accepted record,
failure record and count must come out exactly as in a run where no advisor exists.
"""

import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor_support import advisor_settings, envelopes, every_failure, run_advisor, with_classes
from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core import serial
from sigma_aetl.core.records import written_json
from sigma_aetl.ingest.outcome import Outcome
from sigma_aetl.ingest.pipeline import Pipeline
from sigma_aetl.scripted_ollama import ADVERSARIAL, ScriptedOllama
from sigma_aetl.stores import Store, open_store
from sigma_aetl.stores.base import RecordQuery
from strategies import broken_shipments, dumps, json_ish_text, valid_shipments

payloads = st.one_of(
    valid_shipments.map(dumps),
    broken_shipments().map(lambda broken: dumps(broken[0])),
    json_ish_text.map(lambda text: text.encode("utf-8", "surrogatepass")),
)


@pytest.fixture(scope="module")
def adversary() -> Iterator[ScriptedOllama]:
    """One adversarial scripted server for the module's examples."""
    with ScriptedOllama("accept") as server:
        yield server


def stored(store: Store) -> tuple[list[bytes], list[bytes], bytes]:
    """Everything the store holds, as bytes: records, failures (with their occurrences), and the stats."""
    records = [serial.dumps(record) for record in store.query_records(RecordQuery(limit=1000)).items]
    failures = sorted(
        written_json(failure) + serial.dumps(failure.occurrences) for failure in every_failure(store)
    )
    return records, failures, store.stats().model_dump_json().encode()


def ingestion(
    workdir: Path, registry: Registry, batches: Sequence[Sequence[bytes]], url: str | None
) -> tuple[list[Outcome], tuple[list[bytes], list[bytes], bytes]]:
    """Ingest ``batches`` (the last one again at the end: a replay); with ``url``, the advisor drains its
    queue in both scopes after every batch."""
    store = open_store(f"sqlite:///{workdir}/gateway.db")
    pipeline = Pipeline(registry, store)
    outcomes: list[Outcome] = []
    try:
        for batch in [*batches, batches[-1]]:
            outcomes += pipeline.process(envelopes(batch))
            if url is not None:
                for scope in ("class", "failure"):
                    config = advisor_settings(workdir, url, advisor_scope=scope, advisor_max_attempts=1)
                    run_advisor(config, with_classes(store), registry)
        return outcomes, stored(store)
    finally:
        store.close()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    batches=st.lists(st.lists(payloads, min_size=1, max_size=4), min_size=1, max_size=3),
    behaviours=st.lists(st.sampled_from(ADVERSARIAL), min_size=1, max_size=6),
)
def test_an_adversarial_advisor_changes_no_decision_record_or_failure(
    registry: Registry, adversary: ScriptedOllama, batches: list[list[bytes]], behaviours: list[str]
) -> None:
    """Every decision, record and failure is byte-identical with the adversarial advisor and without it."""
    adversary.behaviour = behaviours[0]
    adversary.script = behaviours * 20
    calls = adversary.calls
    with tempfile.TemporaryDirectory() as without, tempfile.TemporaryDirectory() as advised:
        plain = ingestion(Path(without), registry, batches, None)
        attacked = ingestion(Path(advised), registry, batches, adversary.url)
    assert attacked == plain
    if plain[1][1]:  # failures were stored, so the adversary was asked
        assert adversary.calls > calls
