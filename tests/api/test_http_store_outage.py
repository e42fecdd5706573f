"""When the store is down, requests are refused with 503 and nothing is claimed as stored."""

from collections.abc import Iterator, Sequence

import httpx

from sigma_aetl.contracts.loader import load_registry
from sigma_aetl.core.records import AcceptedRecord, FailureRecord, StoredPayload
from sigma_aetl.errors import StoreUnavailable
from sigma_aetl.http import create_app
from sigma_aetl.ingest.gateway import Gateway
from sigma_aetl.ingest.pipeline import Pipeline
from sigma_aetl.settings import Settings
from sigma_aetl.stores.base import (
    PURGE_BATCH,
    FailurePage,
    FailurePurge,
    FailureQuery,
    PurgeReport,
    RecordPage,
    RecordQuery,
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

    def submit(self, records: Sequence[AcceptedRecord], failures: Sequence[FailureRecord]) -> Written:
        """Write at once."""
        return Written(self.write(records, failures))

    def write(self, records: Sequence[AcceptedRecord], failures: Sequence[FailureRecord]) -> WriteReport:
        """Unavailable."""
        raise self._down()

    def get_record(self, record_id: str) -> AcceptedRecord | None:
        """Unavailable."""
        raise self._down()

    def get_failure(self, failure_id: str) -> FailureRecord | None:
        """Unavailable."""
        raise self._down()

    def query_failures(self, query: FailureQuery) -> FailurePage:
        """Unavailable."""
        raise self._down()

    def query_records(self, query: RecordQuery) -> RecordPage:
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

    def ping(self) -> None:
        """Unavailable."""
        raise self._down()

    def close(self) -> None:
        """Nothing to close."""


def test_store_outage_is_503_problem_and_not_ready(settings: Settings) -> None:
    """Ingest and the records listing answer 503 problem details and /readyz reports not ready while the
    store is down."""
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
    assert validate.json()["status"] == "PASSED"
