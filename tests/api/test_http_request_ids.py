"""Request ids and log lines on a real ``sigma-aetl serve``: one id per request, in the answer, in what is
stored and on the request's log lines; uvicorn's own lines in the gateway's format."""

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from cli_support import CONTRACTS
from serve_support import ServeProcess
from sigma_aetl.http.requestid import MAX_REQUEST_ID, request_id
from sigma_aetl.testing import VALID_SHIPMENT

INGEST = "/v1/ingest/shipment/1"
GENERATED = re.compile(r"[0-9a-f]{32}")


def json_lines(log: Path) -> list[dict[str, Any]]:
    """Every line of the log as JSON (fails on a line that is not)."""
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def shipment(n: int) -> bytes:
    """A valid shipment with an id of its own."""
    return VALID_SHIPMENT.replace(b"SHIP-TRUE-003", f"SHIP-RID-{n}".encode())


def test_request_ids_in_answers_records_and_json_logs(tmp_path: Path) -> None:
    """A safe X-Request-ID is kept, an unsafe or missing one replaced by a new id; the answer's header,
    the stored record's ``source.request_id`` and the request's access line all carry the same id, and
    every line of the log, uvicorn's included, is JSON."""
    env = {"SIGMA_AETL_LOG_FORMAT": "json", "SIGMA_AETL_ACCESS_LOG": "true"}
    sent = {"kept": "req-abc.1", "unsafe": "has space", "too_long": "x" * (MAX_REQUEST_ID + 1), "none": None}
    answered: dict[str, str] = {}
    with ServeProcess(tmp_path, CONTRACTS, env=env) as serve:
        for n, (case, value) in enumerate(sent.items()):
            headers = {} if value is None else {"x-request-id": value}
            response = serve.http.post(INGEST, content=shipment(n), headers=headers)
            assert response.status_code == 200, response.text
            chosen = answered[case] = response.headers["x-request-id"]
            record = serve.http.get(f"/v1/records/{response.json()['record_id']}").json()
            assert record["source"]["request_id"] == chosen
            assert record["source"]["headers"].get("x-request-id") == value  # recorded as sent
        stats = serve.http.get("/v1/stats", headers={"x-request-id": "read-1"})
    assert answered["kept"] == "req-abc.1"
    assert all(GENERATED.fullmatch(answered[case]) for case in ("unsafe", "too_long", "none"))
    assert len(set(answered.values())) == len(answered)
    assert stats.headers["x-request-id"] == "read-1"
    lines = json_lines(serve.log)
    access = {line["request_id"]: line for line in lines if line.get("event") == "http.access"}
    assert set(answered.values()) | {"read-1"} <= set(access)
    kept = access["req-abc.1"]
    assert (kept["component"], kept["method"], kept["path"], kept["status"]) == (
        "uvicorn.access",
        "POST",
        INGEST,
        200,
    )
    assert any(line.get("component") == "uvicorn.error" for line in lines)  # uvicorn's start-up lines
    assert {"timestamp", "level", "event"} <= set(kept)


def test_console_format_renders_uvicorn_lines_as_key_value(tmp_path: Path) -> None:
    """In the default console format, uvicorn's lines are key=value lines like the gateway's own, with
    the request id on the access line."""
    with ServeProcess(tmp_path, CONTRACTS, env={"SIGMA_AETL_ACCESS_LOG": "true"}) as serve:
        serve.http.post(INGEST, content=shipment(1), headers={"x-request-id": "console-1"})
        access = serve.events("http.access")
    lines = [line for line in serve.log.read_text().splitlines() if line.strip()]
    assert lines
    assert all(line.startswith("timestamp=") for line in lines), lines
    assert any("component='uvicorn.error'" in line for line in lines)
    assert [line["request_id"] for line in access if line["path"] == INGEST] == ["console-1"]


@pytest.mark.parametrize(
    ("sent", "kept"),
    [("abc-123", True), ("a:b/c@d+e=f~g.h_i", True), ("", False), ("tab\there", False), ("é", False)],
)
def test_request_id_keeps_only_safe_ids(sent: str, kept: bool) -> None:
    """An id of safe characters is kept as sent; an empty one or one with other characters is replaced."""
    assert (request_id(sent) == sent) is kept


def test_new_request_ids_differ_in_a_forked_child_and_between_calls() -> None:
    """New ids are 32 hex digits, a new one each call, and a forked child (uvicorn's reloader, a
    supervisor) does not draw the ids its parent draws: its generator is seeded again."""
    drawn = [request_id(None) for _ in range(1000)]
    assert len(set(drawn)) == len(drawn)
    assert all(GENERATED.fullmatch(one) for one in drawn)
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # the child: send its next ids and leave at once
        os.write(writing, "".join(request_id(None) for _ in range(4)).encode())
        os._exit(0)
    os.close(writing)
    with os.fdopen(reading, "rb") as pipe:
        theirs = pipe.read().decode()
    os.waitpid(child, 0)
    ours = "".join(request_id(None) for _ in range(4))
    assert len(theirs) == len(ours) == 128
    assert theirs != ours
