"""``sigma-aetl worker`` as a real process against the real broker picks up contracts added while it runs —
on SIGHUP, or by watching the directory — between batches, and refuses a reload that edits a released
version, its old contracts judging on."""

import json
import signal
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from kafka_support import Kafka, Msg, StoreReader, WorkerProcess, example_count, free_port
from reload_support import HIGH_PRIORITY, PARCEL, add_parcel, add_shipment_v3, copy_contracts, edit_v1
from sigma_aetl.contracts.loader import load_registry
from sigma_aetl.testing import wait_until

V2_SHIPMENT = b'{"shipment_id": "K-V3", "weight_kg": 3, "destination": "Cork", "service_level": "economy"}'


def readyz(port: int) -> tuple[int, dict[str, Any]]:
    """GET the worker's /readyz: status code and JSON body (None while the port does not answer)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


def reload_status(port: int) -> str | None:
    """The status of the worker's latest contract reload, as /readyz shows it."""
    try:
        status: str | None = readyz(port)[1].get("reload", {}).get("status")
    except urllib.error.URLError:  # the health port is not listening yet
        return None
    return status


def addressed(contract: str, version: str, value: bytes) -> Msg:
    """A message routed by its headers to ``contract@version``."""
    return Msg(value, headers=[("sigma-contract", contract.encode()), ("sigma-version", version.encode())])


@pytest.fixture
def contracts(tmp_path: Path) -> Path:
    """A private copy of the repository's contracts, to change while the worker runs."""
    return copy_contracts(tmp_path)


def start(kafka: Kafka, group: str, tmp_path: Path, contracts: Path, *args: str) -> tuple[WorkerProcess, int]:
    """A worker process on the copy, with a health port; once it is ready."""
    port = free_port()
    base = ["--bootstrap-servers", kafka.bootstrap, "--group", group, "--health-port", str(port)]
    worker = WorkerProcess(
        tmp_path / "store.db", [*base, *args], tmp_path / "worker.log", contracts=contracts
    )
    wait_until(lambda: _ready(port, worker), 60, "the worker to be ready")
    return worker, port


def _ready(port: int, worker: WorkerProcess) -> bool:
    if worker.process.poll() is not None:
        raise AssertionError(f"the worker exited: {worker.log.read_text()[-3000:]}")
    try:
        return readyz(port)[0] == 200
    except urllib.error.URLError:
        return False


def test_sighup_routes_a_new_contract_and_the_earlier_failure_keeps_what_replay_needs(
    kafka: Kafka, group: str, tmp_path: Path, contracts: Path
) -> None:
    """A message for a contract that does not exist yet is an unknown_contract failure; after the contract
    is written and SIGHUP sent, the same bytes are accepted under its fingerprint, and the failure keeps
    its raw bytes and the contract it addressed."""
    topic = kafka.topic("reload-sighup")
    worker, port = start(kafka, group, tmp_path, contracts, "--topic", topic)
    reader = StoreReader(tmp_path / "store.db")
    (early,) = kafka.produce(topic, [addressed("parcel", "1", PARCEL)])
    wait_until(reader.holds(1), 30, "the early parcel stored")
    add_parcel(contracts)
    worker.signal(signal.SIGHUP)
    wait_until(lambda: reload_status(port) == "reloaded", 30, "the reload")
    (later,) = kafka.produce(topic, [addressed("parcel", "1", PARCEL)])
    wait_until(reader.holds(2), 30, "the later parcel stored")
    docs = reader.docs()
    failure, record = docs[early], docs[later]
    assert (failure["contract_ref"], failure["root_cause"]) == ("parcel@1", "unknown_contract")
    assert failure["raw"]["text"].encode() == PARCEL
    assert record["fingerprint"] == load_registry(contracts).require("parcel@1").fingerprint
    status, body = readyz(port)
    assert (status, body["contracts"], body["reload"]["added"]) == (200, example_count() + 1, ["parcel@1"])
    (logged,) = worker.events("contracts.reloaded")
    assert logged["trigger"] == "SIGHUP"
    worker.signal(signal.SIGTERM)
    assert worker.wait(30) == 0, worker.log.read_text()


def test_a_watched_directory_reloads_between_batches(
    kafka: Kafka, group: str, tmp_path: Path, contracts: Path
) -> None:
    """With --watch-contracts, a version written on disk is used for the batches after the watcher saw it."""
    topic = kafka.topic("reload-watch")
    worker, port = start(kafka, group, tmp_path, contracts, "--topic", topic, "--watch-contracts", "0.2")
    add_shipment_v3(contracts)
    wait_until(lambda: reload_status(port) == "reloaded", 30, "the watcher's reload")
    assert readyz(port)[1]["reload"]["trigger"] == "watch"
    (coordinates,) = kafka.produce(topic, [addressed("shipment", "3", V2_SHIPMENT)])
    reader = StoreReader(tmp_path / "store.db")
    wait_until(reader.holds(1), 30, "the shipment@3 message stored")
    assert reader.docs()[coordinates]["version"] == 3
    worker.signal(signal.SIGTERM)
    assert worker.wait(30) == 0, worker.log.read_text()


def test_an_edited_release_is_refused_and_the_released_version_keeps_judging(
    kafka: Kafka, group: str, tmp_path: Path, contracts: Path
) -> None:
    """Editing released shipment@1 in place and sending SIGHUP refuses the reload (logged, on /readyz, the
    worker still ready); the next message is judged by shipment@1 as released."""
    released = load_registry(contracts).require("shipment@1")
    topic = kafka.topic("reload-refused")
    worker, port = start(kafka, group, tmp_path, contracts, "--route", f"{topic}=shipment@1")
    before = readyz(port)[1]["registry"]
    edit_v1(contracts)
    worker.signal(signal.SIGHUP)
    wait_until(lambda: reload_status(port) == "refused", 30, "the refused reload")
    status, body = readyz(port)
    assert (status, body["status"], body["registry"]) == (200, "ready", before)
    assert "shipment@1 (shipment/v1.py): edited after release" in body["reload"]["error"]
    (coordinates,) = kafka.produce(topic, [Msg(HIGH_PRIORITY)])
    reader = StoreReader(tmp_path / "store.db")
    wait_until(reader.holds(1), 30, "the message stored")
    failure = reader.docs()[coordinates]
    assert (failure["root_cause"], failure["fingerprint"]) == ("constraint_violation", released.fingerprint)
    (logged,) = worker.events("contracts.reload_refused")
    assert logged["level"] == "error"
    worker.signal(signal.SIGTERM)
    assert worker.wait(30) == 0, worker.log.read_text()
