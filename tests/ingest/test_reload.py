"""The contract reload service: a new registry only when it loads as a start would accept it; a refusal
keeps the running one and says why; a batch is judged by one registry even if a reload swaps it meanwhile."""

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from reload_support import PARCEL, add_parcel, add_shipment_v3, copy_contracts, edit_v1
from sigma_aetl.contracts.loader import load_registry
from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core.envelope import Envelope
from sigma_aetl.core.records import AcceptedRecord, FailureRecord
from sigma_aetl.ingest.pipeline import Pipeline
from sigma_aetl.ingest.reload import ContractReloader
from sigma_aetl.stores.base import PendingWrite, StagedWrite
from sigma_aetl.stores.sqlite.store import SqliteStore

EnvelopeFactory = Callable[..., Envelope]


@pytest.fixture
def contracts(tmp_path: Path) -> Path:
    """A private copy of the repository's contracts."""
    return copy_contracts(tmp_path)


@pytest.fixture
def reloader(contracts: Path) -> ContractReloader:
    """A reloader over the copy, starting from the registry loaded from it."""
    return ContractReloader(contracts, load_registry(contracts))


def test_a_new_version_is_loaded_and_handed_over(reloader: ContractReloader, contracts: Path) -> None:
    """After a version is added, reload returns a registry holding it, logs and records what changed."""
    before = reloader.current
    assert not reloader.changed()
    add_shipment_v3(contracts)
    assert reloader.changed()
    with capture_logs() as logs:
        registry = reloader.reload("SIGHUP")
    assert registry is not None
    assert registry is reloader.current
    assert registry.require("shipment@3").version == 3
    assert before.get("shipment", 3) is None  # the old registry is untouched
    assert not reloader.changed()
    (logged,) = [entry for entry in logs if entry["event"] == "contracts.reloaded"]
    assert (logged["trigger"], logged["added"], logged["previous"]) == (
        "SIGHUP",
        ["shipment@3"],
        before.digest,
    )
    assert reloader.last is not None
    shown = reloader.last.as_json()
    assert (shown["status"], shown["added"], shown["registry"]) == (
        "reloaded",
        ["shipment@3"],
        registry.digest,
    )


def test_nothing_changed_hands_nothing_over(reloader: ContractReloader) -> None:
    """A reload of the same files returns None and records 'unchanged'."""
    assert reloader.reload("SIGHUP") is None
    assert reloader.last is not None
    assert reloader.last.status == "unchanged"


def test_an_edited_release_is_refused_and_the_running_registry_kept(
    reloader: ContractReloader, contracts: Path
) -> None:
    """Editing released shipment@1 in place refuses the reload, as a start would; the old registry stays."""
    running = reloader.current
    edit_v1(contracts)
    add_parcel(contracts)  # a good change beside the bad one is not half-applied
    with capture_logs() as logs:
        assert reloader.reload("watch") is None
    assert reloader.current is running
    (logged,) = [entry for entry in logs if entry["event"] == "contracts.reload_refused"]
    assert logged["log_level"] == "error"
    assert "shipment@1 (shipment/v1.py): edited after release" in logged["error"]
    assert "changed  field priority: maximum 3 → 5" in logged["error"]
    assert logged["registry"] == running.digest
    assert reloader.last is not None
    assert (reloader.last.status, reloader.last.registry) == ("refused", running.digest)
    assert not reloader.changed()  # the same broken files are not retried at every poll


def test_a_refusal_is_cleared_by_the_next_good_reload(reloader: ContractReloader, contracts: Path) -> None:
    """A broken file refuses the reload naming it; once fixed, the next reload goes through."""
    broken = contracts / "parcel"
    broken.mkdir()
    (broken / "v1.json").write_text('{"name": "parcel", "version": 1, "schema": ')
    assert reloader.reload("watch") is None
    assert reloader.last is not None
    assert reloader.last.error is not None
    assert "parcel/v1.json" in reloader.last.error
    (broken / "v1.json").unlink()
    broken.rmdir()
    add_parcel(contracts)
    assert reloader.changed()
    registry = reloader.reload("watch")
    assert registry is not None
    assert registry.require("parcel@1")
    assert reloader.last is not None
    assert reloader.last.error is None


def test_what_the_face_requires_must_stay(contracts: Path) -> None:
    """A reload that removes a contract the face requires (the HTTP default, a routed one) is refused."""
    reloader = ContractReloader(
        contracts, load_registry(contracts), require=lambda new: new.require("shipment@2")
    )
    (contracts / "shipment" / "v2.json").unlink()
    assert reloader.reload("SIGHUP") is None
    assert reloader.last is not None
    assert reloader.last.error == "Contract 'shipment' has no version '2' (known versions: 1)."


def test_a_missing_directory_is_refused(tmp_path: Path, registry: Registry) -> None:
    """A contracts directory that vanished refuses the reload; the registry in hand keeps serving."""
    reloader = ContractReloader(tmp_path / "gone", registry)
    assert reloader.reload("SIGHUP") is None
    assert reloader.current is registry
    assert reloader.last is not None
    assert reloader.last.error is not None
    assert "does not exist" in reloader.last.error


class _SwapOnFirstWrite:
    """A real store that swaps the pipeline's registry while its first write is in flight (a reload)."""

    def __init__(self, store: SqliteStore, pipeline: list[Pipeline], replacement: Registry) -> None:
        self.store = store
        self.pipeline = pipeline
        self.replacement = replacement
        self.writes_in_background = False

    def stage(self, records: Sequence[AcceptedRecord], failures: Sequence[FailureRecord]) -> StagedWrite:
        """Stage through."""
        return self.store.stage(records, failures)

    def submit(self, write: StagedWrite) -> PendingWrite:
        """Swap the registry once, then write through."""
        self.pipeline[0].registry = self.replacement
        return self.store.submit(write)

    def write(self, records: Sequence[AcceptedRecord], failures: Sequence[FailureRecord]) -> object:
        """Write through."""
        return self.store.write(records, failures)


def test_a_batch_is_judged_by_the_registry_it_started_with(
    contracts: Path, sqlite_store: SqliteStore, make_envelope: EnvelopeFactory
) -> None:
    """A registry swapped while the first transaction of a batch is written does not judge the rest of it;
    the next batch is judged by the new one."""
    old = load_registry(contracts)
    add_parcel(contracts)
    new = load_registry(contracts)
    holder: list[Pipeline] = []
    store = _SwapOnFirstWrite(sqlite_store, holder, new)
    pipeline = Pipeline(old, store, transaction_size=2)  # type: ignore[arg-type]
    holder.append(pipeline)
    parcels = [make_envelope(PARCEL, "parcel", "1", transport_identity=("t", str(n))) for n in range(5)]
    outcomes = pipeline.process(parcels)  # three transactions; the swap happens in the first
    assert pipeline.registry is new
    assert [outcome.root_cause for outcome in outcomes] == ["unknown_contract"] * 5
    after = pipeline.process([make_envelope(PARCEL, "parcel", "1")])
    assert after[0].status == "PASSED"
