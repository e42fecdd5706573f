"""HTTP: a class's and a failure's advisories, read-only, with their job; bad ids are 404 problems."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from advisor_support import advisor_settings, run_advisor, with_classes
from sigma_aetl.contracts.loader import load_registry
from sigma_aetl.core.advisories import AdvisoryTarget
from sigma_aetl.core.classes import class_id_of
from sigma_aetl.http import create_app
from sigma_aetl.scripted_ollama import ScriptedOllama
from sigma_aetl.settings import Settings
from sigma_aetl.stores import open_store
from sigma_aetl.testing import INVALID_SHIPMENT, JSON_HEADERS, ServerThread


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A gateway on the example contracts and a SQLite store under ``tmp_path``."""
    return advisor_settings(tmp_path, None)


@pytest.fixture
def client(settings: Settings) -> Iterator[httpx.Client]:
    """A client of the gateway behind a real uvicorn."""
    with ServerThread(create_app(settings)) as running, httpx.Client(base_url=running.url) as http:
        yield http


def test_advisories_of_a_class_and_of_a_requested_failure_are_listed_with_their_job(
    tmp_path: Path, settings: Settings, client: httpx.Client
) -> None:
    """Once the advisor ran, a class lists its advisory and job; a failure requested alone lists its own."""
    sent = client.post("/v1/ingest/shipment/1", content=INVALID_SHIPMENT, headers=JSON_HEADERS)
    failure_id = sent.json()["failure_id"]
    store = open_store(settings.store_url)
    failure = store.get_failure(failure_id)
    assert failure is not None
    class_id = class_id_of(failure)
    store.enqueue_advisories([AdvisoryTarget(kind="failure", id=failure_id)], failure.received_at)
    with ScriptedOllama("normal") as server:
        advisor = advisor_settings(tmp_path, server.url, settings.contracts_dir)
        run_advisor(advisor, with_classes(store), load_registry(settings.contracts_dir))
    store.close()
    of_class = client.get(f"/v1/failure-classes/{class_id}/advisories").json()
    assert of_class["target"] == {"kind": "class", "id": class_id}
    assert of_class["job"]["state"] == "done"
    (advisory,) = of_class["items"]
    assert advisory["status"] == "ok"
    assert set(advisory["advice"]) == {
        "summary",
        "probable_cause",
        "producer_fix",
        "contract_change",
        "confidence",
    }
    of_failure = client.get(f"/v1/failures/{failure_id}/advisories").json()
    assert of_failure["target"]["kind"] == "failure"
    assert [item["status"] for item in of_failure["items"]] == ["ok"]


def test_a_class_never_advised_lists_nothing_and_no_job(client: httpx.Client) -> None:
    """A well-formed class id with no advisory answers 200 with no items and a null job."""
    answer = client.get(f"/v1/failure-classes/cls_{'0' * 32}/advisories")
    assert answer.status_code == 200
    assert answer.json()["items"] == []
    assert answer.json()["job"] is None


@pytest.mark.parametrize(
    "path", ["/v1/failure-classes/not-a-class/advisories", "/v1/failures/nope/advisories"]
)
def test_an_unknown_or_malformed_id_is_a_404_problem(client: httpx.Client, path: str) -> None:
    """A malformed class id, or a failure id nothing has, is a 404 problem, never a 5xx."""
    answer = client.get(path)
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
