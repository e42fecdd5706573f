"""``serve`` with SIGMA_AETL_ADVISOR_URL: the advisor runs in the background, and never holds ingestion up."""

import signal
import time
from pathlib import Path

from cli_support import CONTRACTS
from serve_support import ServeProcess
from sigma_aetl.scripted_ollama import ScriptedOllama
from sigma_aetl.testing import INVALID_SHIPMENT, wait_until

ADVISOR = {"SIGMA_AETL_ADVISOR_SCOPE": "failure", "SIGMA_AETL_ADVISOR_POLL_INTERVAL": "0.2"}


def test_serve_advises_stored_failures_in_the_background(tmp_path: Path) -> None:
    """A failure ingested through serve gets its advisory from the background advisor, readable over HTTP."""
    with ScriptedOllama("normal") as model:
        env = {**ADVISOR, "SIGMA_AETL_ADVISOR_URL": model.url}
        with ServeProcess(tmp_path, CONTRACTS, env=env) as serve:
            failure_id = serve.http.post("/v1/ingest/shipment/1", content=INVALID_SHIPMENT).json()[
                "failure_id"
            ]
            path = f"/v1/failures/{failure_id}/advisories"
            wait_until(lambda: bool(serve.http.get(path).json()["items"]), 30, "the failure's advisory")
            (advisory,) = serve.http.get(path).json()["items"]
            assert advisory["status"] == "ok"
            serve.signal(signal.SIGINT)
            assert serve.wait() == 0


def test_a_slow_model_holds_neither_ingestion_nor_shutdown(tmp_path: Path) -> None:
    """With every call taking 30 s, events are stored at once and serve stops promptly on SIGINT."""
    with ScriptedOllama("slow", delay=30.0) as model:
        env = {**ADVISOR, "SIGMA_AETL_ADVISOR_URL": model.url, "SIGMA_AETL_ADVISOR_TIMEOUT": "60"}
        with ServeProcess(tmp_path, CONTRACTS, env=env) as serve:
            serve.http.post("/v1/ingest/shipment/1", content=INVALID_SHIPMENT)
            wait_until(lambda: model.calls > 0, 30, "the advisor to call the model")
            started = time.monotonic()
            for n in range(20):
                body = INVALID_SHIPMENT.replace(b'""', f'"S-{n}"'.encode())
                assert serve.http.post("/v1/ingest/shipment/1", content=body).status_code == 200
            assert time.monotonic() - started < 10
            stopping = time.monotonic()
            serve.signal(signal.SIGINT)
            assert serve.wait() == 0
            assert time.monotonic() - stopping < 15
