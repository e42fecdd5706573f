"""The default contract of ``POST /api/validate`` is a setting: absent or not loaded, that route answers a
404 problem saying how to set it, on the fast path and the FastAPI route alike, and the gateway starts."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError
from structlog.testing import capture_logs

from sigma_aetl.http import create_app
from sigma_aetl.settings import Settings
from sigma_aetl.testing import JSON_HEADERS, VALID_SHIPMENT, ServerThread

CONTRACTS = Path(__file__).parents[2] / "contracts"
ORDER = b'{"shipment_id": "O-1", "weight_kg": 2, "destination": "Cork", "service_level": "express"}'


@pytest.fixture
def without_shipment(tmp_path: Path) -> Path:
    """A contracts directory holding only ``order@1`` (the example shipment@2 schema, renamed)."""
    document = json.loads((CONTRACTS / "shipment" / "v2.json").read_text())
    document.update(name="order", version=1)
    folder = tmp_path / "contracts" / "order"
    folder.mkdir(parents=True)
    (folder / "v1.json").write_text(json.dumps(document))
    return folder.parent


def settings_for(tmp_path: Path, contracts: Path, **overrides: object) -> Settings:
    """Settings on a store of this test and ``contracts``."""
    values = {"store_url": f"sqlite:///{tmp_path}/gateway.db", "contracts_dir": contracts, **overrides}
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(params=[True, False], ids=["fast-path", "fastapi-routes"])
def fast_path(request: pytest.FixtureRequest) -> bool:
    """Both ways a request is answered: the ASGI fast path, and the FastAPI routes alone."""
    flag: bool = request.param
    return flag


@contextmanager
def serve(settings: Settings, fast_path: bool) -> Iterator[httpx.Client]:
    """A client of the gateway under a real uvicorn."""
    with (
        ServerThread(create_app(settings, fast_path=fast_path)) as server,
        httpx.Client(base_url=server.url, timeout=30, headers=JSON_HEADERS) as client,
    ):
        yield client


def test_a_default_contract_that_is_not_loaded_is_a_404_not_a_failed_start(
    tmp_path: Path, without_shipment: Path, fast_path: bool
) -> None:
    """Contracts without shipment_compat@1 still serve; /api/validate answers 404 saying how to set one."""
    with serve(settings_for(tmp_path, without_shipment), fast_path) as client:
        response = client.post("/api/validate", content=VALID_SHIPMENT)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["default_contract"] == "shipment_compat@1"
        assert problem["instance"] == "/api/validate"
        for text in (
            "shipment_compat@1, which is not loaded (loaded: order@1)",
            "SIGMA_AETL_DEFAULT_CONTRACT=",
            "--default-contract",
        ):
            assert text in problem["detail"]
        assert client.post("/v1/ingest/order/1", content=ORDER).json()["status"] == "PASSED"
        assert client.get("/v1/stats").json()["accepted_total"] == 1


def test_no_default_contract_set_is_a_404(tmp_path: Path, fast_path: bool) -> None:
    """An empty SIGMA_AETL_DEFAULT_CONTRACT means none: the route says none is set and how to set one."""
    with serve(settings_for(tmp_path, CONTRACTS, default_contract=""), fast_path) as client:
        response = client.post("/api/validate", content=VALID_SHIPMENT)
        assert response.status_code == 404
        assert response.json()["default_contract"] is None
        assert "has no default contract set" in response.json()["detail"]


def test_another_default_contract_is_used(tmp_path: Path, fast_path: bool) -> None:
    """The default contract named by the setting judges the events of /api/validate."""
    v2_event = VALID_SHIPMENT.replace(b'"priority": 2', b'"service_level": "express"')
    with serve(settings_for(tmp_path, CONTRACTS, default_contract="shipment@2"), fast_path) as client:
        assert client.post("/api/validate", content=v2_event).json()["status"] == "PASSED"
        failed = client.post("/api/validate", content=VALID_SHIPMENT).json()
        assert failed["status"] == "FAILED"
        assert failed["root_cause"] in {"missing_field", "unexpected_field"}


def test_start_warns_when_the_default_contract_is_not_loaded(tmp_path: Path, without_shipment: Path) -> None:
    """Starting with a default contract that is not loaded logs a warning naming it and its effect."""
    with capture_logs() as logged, serve(settings_for(tmp_path, without_shipment), fast_path=True):
        pass
    [warning] = [entry for entry in logged if entry["event"] == "gateway.default_contract_not_loaded"]
    assert warning["log_level"] == "warning"
    assert warning["default_contract"] == "shipment_compat@1"
    assert "404" in warning["effect"]


def test_a_malformed_default_contract_is_an_invalid_setting() -> None:
    """A default contract that is not NAME@VERSION is a settings error, not a silent 404."""
    with pytest.raises(ValidationError, match="not NAME@VERSION"):
        Settings(default_contract="shipment")
