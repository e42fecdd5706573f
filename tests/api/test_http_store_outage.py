"""When the store is down, requests are refused with 503 and nothing is claimed as stored."""

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

import httpx
import pytest
import structlog

from sigma_aetl.contracts.loader import load_registry
from sigma_aetl.core.advisories import Advisory, AdvisoryJob, AdvisoryTarget
from sigma_aetl.core.alerts import Alert
from sigma_aetl.core.analytics import (
    AnalyticsWindow,
    FailureAnalytics,
    FailureAnalyticsQuery,
    TrafficAnalytics,
)
from sigma_aetl.core.classes import FailureClass
from sigma_aetl.core.keys import ApiKey
from sigma_aetl.core.records import AcceptedRecord, FailureRecord, StoredPayload
from sigma_aetl.errors import StoreError, StoreUnavailable
from sigma_aetl.http import create_app
from sigma_aetl.ingest.gateway import Gateway
from sigma_aetl.ingest.pipeline import Pipeline
from sigma_aetl.settings import Settings
from sigma_aetl.stores.base import (
    PURGE_BATCH,
    UNBOUNDED,
    ClassPage,
    ClassQuery,
    FailureFilter,
    FailurePage,
    FailurePurge,
    FailureQuery,
    Lineage,
    PageBudget,
    ProducerActivity,
    PurgeReport,
    RecordPage,
    RecordQuery,
    Replayed,
    ReplayRun,
    ReplayWrite,
    Resolution,
    StagedWrite,
    Stats,
    WriteReport,
    Written,
)
from sigma_aetl.testing import JSON_HEADERS, VALID_SHIPMENT, ServerThread


class DownStore:
    """A store whose every call fails as an unreachable database would."""

    def _down(self) -> StoreUnavailable:
        return StoreUnavailable("connection refused")

    writes_in_background = False

    def stage(self, records: Sequence[AcceptedRecord], failures: Sequence[FailureRecord]) -> StagedWrite:
        """The write as given."""
        return StagedWrite(records, failures)

    def submit(self, write: StagedWrite) -> Written:
        """Write at once."""
        return Written(self.write(write.records, write.failures))

    def write(self, records: Sequence[AcceptedRecord], failures: Sequence[FailureRecord]) -> WriteReport:
        """Unavailable."""
        raise self._down()

    def get_record(self, record_id: str) -> AcceptedRecord | None:
        """Unavailable."""
        raise self._down()

    def get_failure(self, failure_id: str) -> FailureRecord | None:
        """Unavailable."""
        raise self._down()

    def query_failures(self, query: FailureQuery, budget: PageBudget = UNBOUNDED) -> FailurePage:
        """Unavailable."""
        raise self._down()

    def query_records(self, query: RecordQuery, budget: PageBudget = UNBOUNDED) -> RecordPage:
        """Unavailable."""
        raise self._down()

    def stats(self) -> Stats:
        """Unavailable."""
        raise self._down()

    def count_failures(self, which: FailurePurge) -> PurgeReport:
        """Unavailable."""
        raise self._down()

    def purge_failures(self, which: FailurePurge, *, batch_size: int = PURGE_BATCH) -> PurgeReport:
        """Unavailable."""
        raise self._down()

    def raw_payloads(
        self, contract: str, version: int, *, batch_size: int = 500
    ) -> Iterator[list[StoredPayload]]:
        """Unavailable."""
        raise self._down()

    def iter_failures(self, which: FailureFilter, *, batch_size: int = 500) -> Iterator[list[FailureRecord]]:
        """Unavailable."""
        raise self._down()

    def query_classes(self, query: ClassQuery) -> ClassPage:
        """Unavailable."""
        raise self._down()

    def get_class(self, class_id: str) -> FailureClass | None:
        """Unavailable."""
        raise self._down()

    def producer_activity(self, contract: str, producer: str) -> list[ProducerActivity]:
        """Unavailable."""
        raise self._down()

    def write_replayed(self, items: Sequence[Replayed]) -> ReplayWrite:
        """Unavailable."""
        raise self._down()

    def lineage(self, record_id: str) -> Lineage | None:
        """Unavailable."""
        raise self._down()

    def resolutions(self, failure_id: str) -> list[Resolution]:
        """Unavailable."""
        raise self._down()

    def save_replay(self, run: ReplayRun) -> None:
        """Unavailable."""
        raise self._down()

    def get_replay(self, replay_id: str) -> ReplayRun | None:
        """Unavailable."""
        raise self._down()

    def list_replays(self, limit: int = 50, offset: int = 0) -> list[ReplayRun]:
        """Unavailable."""
        raise self._down()

    def add_key(self, key: ApiKey) -> None:
        """Unavailable."""
        raise self._down()

    def list_keys(self) -> list[ApiKey]:
        """Unavailable."""
        raise self._down()

    def find_key(self, token_hash: str) -> ApiKey | None:
        """Unavailable."""
        raise self._down()

    def revoke_key(self, key_id: str, at: datetime) -> ApiKey | None:
        """Unavailable."""
        raise self._down()

    def has_keys(self) -> bool:
        """Unavailable."""
        raise self._down()

    def enqueue_advisories(self, targets: Sequence[AdvisoryTarget], at: datetime) -> int:
        """Unavailable."""
        raise self._down()

    def lease_advisory_jobs(
        self, owner: str, now: datetime, term: timedelta, limit: int
    ) -> list[AdvisoryJob]:
        """Unavailable."""
        raise self._down()

    def retry_advisory_job(self, owner: str, job: AdvisoryJob, error: str, at: datetime) -> bool:
        """Unavailable."""
        raise self._down()

    def finish_advisory_job(self, owner: str, advisory: Advisory) -> bool:
        """Unavailable."""
        raise self._down()

    def get_advisory_job(self, target: AdvisoryTarget) -> AdvisoryJob | None:
        """Unavailable."""
        raise self._down()

    def advisory_queue(self) -> dict[str, int]:
        """Unavailable."""
        raise self._down()

    def list_advisories(self, target: AdvisoryTarget) -> list[Advisory]:
        """Unavailable."""
        raise self._down()

    def recent_advisory_errors(self, limit: int) -> list[Advisory]:
        """Unavailable."""
        raise self._down()

    def failure_analytics(self, query: FailureAnalyticsQuery) -> FailureAnalytics:
        """Unavailable."""
        raise self._down()

    def traffic_analytics(self, window: AnalyticsWindow) -> TrafficAnalytics:
        """Unavailable."""
        raise self._down()

    def new_classes(self, since: datetime, until: datetime, limit: int) -> list[FailureClass]:
        """Unavailable."""
        raise self._down()

    def save_alert(self, alert: Alert) -> None:
        """Unavailable."""
        raise self._down()

    def list_alerts(self, since: datetime | None, limit: int) -> list[Alert]:
        """Unavailable."""
        raise self._down()

    def ping(self) -> None:
        """Unavailable."""
        raise self._down()

    def close(self) -> None:
        """Nothing to close."""


def test_store_outage_is_503_problem_and_not_ready(settings: Settings) -> None:
    """Ingest, the records listing and validation answer 503 problem details and /readyz reports not ready
    while the store is down: whether API keys are required cannot be told, so nothing is served open."""
    registry = load_registry(settings.contracts_dir)
    store = DownStore()
    gateway = Gateway(settings, registry, store, Pipeline(registry, store, settings.limits))
    with (
        ServerThread(create_app(settings, gateway)) as server,
        httpx.Client(base_url=server.url, headers=JSON_HEADERS) as client,
    ):
        ingest = client.post("/v1/ingest/shipment/1", content=VALID_SHIPMENT)
        ready = client.get("/readyz")
        listing = client.get("/v1/records", params={"contract": "shipment"})
        validate = client.post("/api/validate", content=VALID_SHIPMENT)
    assert ingest.status_code == 503
    assert ingest.headers["content-type"] == "application/problem+json"
    assert "Retrying is safe" in ingest.json()["detail"]
    assert ready.status_code == 503
    assert listing.status_code == 503
    assert listing.headers["content-type"] == "application/problem+json"
    assert validate.status_code == 503
    assert "the API key cannot be checked" in validate.json()["detail"]


SECRET = "mongodb://admin:s3cret@db.internal:27017 collection failures: E11000 {shipment_id: 'S-1'}"
ROUTES = [
    ("POST", "/v1/ingest/shipment/1"),
    ("GET", "/v1/records"),
    ("GET", "/v1/records/rec_1"),
    ("GET", "/v1/failures"),
    ("GET", "/v1/failures/fail_1"),
    ("GET", "/v1/stats"),
    ("GET", "/readyz"),
]


class TalkativeStore(DownStore):
    """A store whose errors say more than a client should hear."""

    def __init__(self, error: type[StoreError]) -> None:
        self.error = error

    def _down(self) -> StoreUnavailable:
        return self.error(SECRET)  # type: ignore[return-value]

    def has_keys(self) -> bool:
        """No key was ever made: the gateway is open, so each route, not the key check, meets the error."""
        return False


@pytest.mark.parametrize(("error", "status"), [(StoreUnavailable, 503), (StoreError, 500)])
def test_store_error_texts_are_never_echoed(settings: Settings, error: type[StoreError], status: int) -> None:
    """Every route answers a store error with a stable problem, and logs the error's text instead."""
    registry = load_registry(settings.contracts_dir)
    store = TalkativeStore(error)
    gateway = Gateway(settings, registry, store, Pipeline(registry, store, settings.limits))
    with (
        ServerThread(create_app(settings, gateway)) as server,
        httpx.Client(base_url=server.url, headers=JSON_HEADERS) as client,
        structlog.testing.capture_logs() as logged,
    ):
        answers = [client.request(method, path, content=VALID_SHIPMENT) for method, path in ROUTES]
    for answer in answers:
        assert answer.status_code == (503 if answer.url.path == "/readyz" else status)
        assert answer.headers["content-type"] == "application/problem+json"
        assert "s3cret" not in answer.text
        assert "db.internal" not in answer.text
    assert sum(SECRET in event.get("error", "") for event in logged) == len(ROUTES)


class BrokenStore(DownStore):
    """A store with a bug: its errors are no StoreError."""

    def _down(self) -> StoreUnavailable:
        raise RuntimeError(SECRET)

    def has_keys(self) -> bool:
        """No key was ever made: the gateway is open, so the route, not the key check, meets the bug."""
        return False


def test_unexpected_exception_is_a_problem_without_its_text(settings: Settings) -> None:
    """An exception nobody expected answers a 500 problem that does not repeat the exception's text."""
    registry = load_registry(settings.contracts_dir)
    store = BrokenStore()
    gateway = Gateway(settings, registry, store, Pipeline(registry, store, settings.limits))
    with ServerThread(create_app(settings, gateway)) as server:
        response = httpx.get(f"{server.url}/v1/stats")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "s3cret" not in response.text
