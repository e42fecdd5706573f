"""``sigma-aetl serve`` as a real process picks up contracts added while it runs — on SIGHUP, or by watching
the directory — refuses a reload that edits a released version (the old contracts keep serving), and fails
at once, creating nothing, on a port in use."""

import signal
import socket
import subprocess
from pathlib import Path

import pytest

from cli_support import clean_environ
from reload_support import HIGH_PRIORITY, PARCEL, add_parcel, add_shipment_v3, copy_contracts, edit_v1
from serve_support import ServeProcess, serve_command
from sigma_aetl.contracts.loader import load_registry

V2_SHIPMENT = b'{"shipment_id": "SHIP-V3", "weight_kg": 3, "destination": "Cork", "service_level": "express"}'


@pytest.fixture
def contracts(tmp_path: Path) -> Path:
    """A private copy of the repository's contracts, to change while the gateway runs."""
    return copy_contracts(tmp_path)


def test_sighup_serves_a_new_contract_and_the_earlier_failure_keeps_what_replay_needs(
    tmp_path: Path, contracts: Path
) -> None:
    """An event for a contract that does not exist yet is an unknown_contract failure; after the contract
    is written and SIGHUP sent, the same event is accepted under the new contract's fingerprint, and the
    earlier failure still holds its raw bytes and the contract it addressed."""
    with ServeProcess(tmp_path, contracts) as gateway:
        before = gateway.ready()["registry"]
        early = gateway.http.post("/v1/ingest/parcel/1", content=PARCEL).json()
        assert (early["status"], early["root_cause"]) == ("FAILED", "unknown_contract")
        add_parcel(contracts)
        gateway.signal(signal.SIGHUP)
        reload = gateway.wait_reload("reloaded")
        parcel = load_registry(contracts).require("parcel@1")
        assert (reload["trigger"], reload["added"], reload["registry"]) == (
            "SIGHUP",
            ["parcel@1"],
            gateway.ready()["registry"],
        )
        assert reload["registry"] != before
        later = gateway.http.post("/v1/ingest/parcel/1", content=PARCEL).json()
        assert later["status"] == "PASSED"
        record = gateway.http.get(f"/v1/records/{later['record_id']}").json()
        assert record["fingerprint"] == parcel.fingerprint
        failure = gateway.http.get(f"/v1/failures/{early['failure_id']}").json()
        assert (failure["contract_ref"], failure["root_cause"]) == ("parcel@1", "unknown_contract")
        assert failure["raw"]["text"].encode() == PARCEL
        listed = [contract["ref"] for contract in gateway.http.get("/v1/contracts").json()]
        assert listed == ["order@1", "parcel@1", "shipment@1", "shipment@2", "shipment_compat@1"]
        (logged,) = gateway.events("contracts.reloaded")
        assert (logged["trigger"], logged["added"]) == ("SIGHUP", ["parcel@1"])


def test_a_watched_directory_reloads_without_a_signal(tmp_path: Path, contracts: Path) -> None:
    """With --watch-contracts, a new version written on disk is served once the watcher has seen it."""
    with ServeProcess(tmp_path, contracts, "--watch-contracts", "0.2") as gateway:
        assert gateway.http.post("/v1/ingest/shipment/3", content=V2_SHIPMENT).json()["root_cause"] == (
            "unknown_version"
        )
        add_shipment_v3(contracts)
        reload = gateway.wait_reload("reloaded")
        assert (reload["trigger"], reload["added"]) == ("watch", ["shipment@3"])
        assert gateway.http.post("/v1/ingest/shipment/3", content=V2_SHIPMENT).json()["status"] == "PASSED"


def test_an_edited_release_is_refused_and_the_old_contracts_keep_serving(
    tmp_path: Path, contracts: Path
) -> None:
    """Editing released shipment@1 in place and sending SIGHUP refuses the reload, logged and shown on
    /readyz (still ready); events are still judged by the released shipment@1, a new contract beside the
    edit is not served either, and a watcher would not retry the same broken files."""
    released = load_registry(contracts).require("shipment@1")
    with ServeProcess(tmp_path, contracts) as gateway:
        before = gateway.ready()["registry"]
        edit_v1(contracts)
        add_parcel(contracts)
        gateway.signal(signal.SIGHUP)
        reload = gateway.wait_reload("refused")
        assert "shipment@1 (shipment/v1.py): edited after release" in reload["error"]
        assert (reload["trigger"], reload["registry"]) == ("SIGHUP", before)
        ready = gateway.ready()
        assert (ready["status"], ready["registry"]) == ("ready", before)
        outcome = gateway.http.post("/v1/ingest/shipment/1", content=HIGH_PRIORITY).json()
        assert (outcome["status"], outcome["root_cause"]) == ("FAILED", "constraint_violation")
        failure = gateway.http.get(f"/v1/failures/{outcome['failure_id']}").json()
        assert failure["fingerprint"] == released.fingerprint
        parcel = gateway.http.post("/v1/ingest/parcel/1", content=PARCEL).json()
        assert parcel["root_cause"] == "unknown_contract"
        (logged,) = gateway.events("contracts.reload_refused")
        assert logged["level"] == "error"
        assert "maximum 3 → 5" in logged["error"]


def test_serve_on_a_port_in_use_exits_2_at_once_creating_nothing(tmp_path: Path, contracts: Path) -> None:
    """With the port held by another listener, serve exits 2 with one line naming the port, before it
    loads, opens or logs anything: no store file, no writer process, no 'ready'."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        store = tmp_path / "gateway.db"
        command = serve_command(store, contracts, "--port", str(port))
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            env=clean_environ(),
            timeout=60,
            check=False,
            cwd=tmp_path,
        )
    assert result.returncode == 2
    assert result.stderr == (
        f"error: cannot listen on 127.0.0.1:{port}: it is already in use (another process listens there); "
        "stop that process or choose another port (--port or SIGMA_AETL_PORT)\n"
    )
    assert result.stdout == ""
    assert not store.exists()


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 0), (signal.SIGTERM, -signal.SIGTERM)])
def test_serve_exit_codes_on_a_stop_signal(
    tmp_path: Path, contracts: Path, signum: signal.Signals, code: int
) -> None:
    """SIGINT stops serve with exit code 0; SIGTERM ends it by the signal once the shutdown is done (the
    codes the README documents), after the gateway has closed its store."""
    with ServeProcess(tmp_path, contracts) as gateway:
        gateway.signal(signum)
        assert gateway.wait() == code
    log = gateway.log.read_text()
    assert "Application shutdown complete." in log
    assert "event='gateway.ready'" in log
