"""Explicit routing: a contract and version are named, never guessed; and what a registry offers for a
reload: the files it was read from, a digest naming it, its changes against another."""

import os
from pathlib import Path

import pytest

from reload_support import add_shipment_v3, copy_contracts, edit_v1
from sigma_aetl.contracts import ContractModel, Registry, pydantic_contract
from sigma_aetl.contracts.loader import load_registry
from sigma_aetl.contracts.snapshot import snapshot
from sigma_aetl.core.contract import Contract
from sigma_aetl.core.decision import FieldError
from sigma_aetl.core.taxonomy import RootCause, Stage
from sigma_aetl.errors import ContractLoadError, ContractNotFound


class _Thing(ContractModel):
    """A thing."""

    id: str


def thing(name: str, version: int) -> Contract:
    """A minimal contract called ``name@version``."""
    return pydantic_contract(name=name, version=version, model=_Thing, identity=["id"])


def routing_error(registry: Registry, name: str | None, version: str | None) -> FieldError:
    """The routing error for ``name``/``version`` (failing the test if it routed)."""
    found = registry.route(name, version)
    assert isinstance(found, FieldError), found
    assert found.stage is Stage.ROUTING
    assert (found.path, found.loc, found.type) == ("", (), found.root_cause.value)
    assert found.explanation == found.message
    return found


def test_route_finds_the_named_version(registry: Registry, shipment: Contract) -> None:
    """shipment@1 routes to the shipment@1 contract."""
    assert registry.route("shipment", "1") is shipment


@pytest.mark.parametrize(("name", "version"), [(None, "1"), ("shipment", None), ("", "1"), (None, None)])
def test_missing_name_or_version_is_unrouted(
    registry: Registry, name: str | None, version: str | None
) -> None:
    """An event that does not name both a contract and a version is unrouted; no version is assumed."""
    error = routing_error(registry, name, version)
    assert error.root_cause is RootCause.UNROUTED
    assert error.message == "The event does not name a contract and a version."


def test_unknown_contract_lists_the_known_ones(registry: Registry) -> None:
    """A contract name that is not registered is unknown_contract, with the registered names listed."""
    error = routing_error(registry, "parcel", "1")
    assert error.root_cause is RootCause.UNKNOWN_CONTRACT
    assert (
        error.message == "No contract is named 'parcel' (known contracts: order, shipment, shipment_compat)."
    )


def test_unknown_contract_in_an_empty_registry() -> None:
    """An empty registry says there are no known contracts."""
    assert routing_error(Registry([]), "shipment", "1").message == (
        "No contract is named 'shipment' (known contracts: none)."
    )


@pytest.mark.parametrize("version", ["9", "abc", "v1", "01", "1.0", " 1", "", "-1", "0", "1" * 12])
def test_unknown_version_lists_the_known_ones(registry: Registry, version: str) -> None:
    """A version that is not exactly a registered number is unknown_version; nothing is normalised."""
    error = routing_error(registry, "shipment", version)
    assert error.root_cause is RootCause.UNKNOWN_VERSION
    assert error.message == f"Contract 'shipment' has no version {version!r} (known versions: 1, 2)."


def test_registry_keeps_versions_side_by_side() -> None:
    """Several versions of several contracts are each reachable, and listed in order."""
    registry = Registry([thing("b", 2), thing("a", 1), thing("b", 1), thing("b", 10)])
    assert len(registry) == 4
    assert [c.ref for c in registry.all()] == ["a@1", "b@1", "b@2", "b@10"]
    assert registry.versions("b") == [1, 2, 10]
    assert registry.versions("c") == []
    route = registry.route("b", "10")
    assert isinstance(route, Contract)
    assert route.ref == "b@10"
    assert registry.get("b", 3) is None
    assert (
        routing_error(registry, "b", "3").message
        == "Contract 'b' has no version '3' (known versions: 1, 2, 10)."
    )


def test_a_version_defined_twice_is_refused() -> None:
    """Two contracts with the same name and version cannot share a registry."""
    with pytest.raises(ContractLoadError, match="a@1 is defined twice"):
        Registry([thing("a", 1), thing("a", 1)])


def test_require_returns_or_raises(registry: Registry, shipment: Contract) -> None:
    """require() resolves name@version for operators and raises ContractNotFound with the routing message."""
    assert registry.require("shipment@1") is shipment
    with pytest.raises(ContractNotFound, match="known versions: 1, 2"):
        registry.require("shipment@3")
    with pytest.raises(ContractNotFound, match="write NAME@VERSION"):
        registry.require("shipment")
    with pytest.raises(ContractNotFound, match="No contract is named 'nope'"):
        registry.require("nope@1")


def test_digest_names_the_versions_their_fingerprints_and_states(registry: Registry) -> None:
    """Equal contents give equal digests; another version, or a release, gives another digest."""
    again = Registry(registry.all(), registry.lock)
    assert again.digest == registry.digest
    assert registry.digest.startswith("sha256:")
    assert Registry([*registry.all(), thing("parcel", 1)], registry.lock).digest != registry.digest
    released = registry.lock.releasing([registry.require("shipment@2")])
    assert Registry(registry.all(), released).digest != registry.digest


def test_changes_since_lists_added_removed_changed_and_released(registry: Registry) -> None:
    """Against an older registry, the refs added, removed, edited (drafts) and newly released are listed."""
    older = Registry([thing("parcel", 1), thing("box", 1)], registry.lock)

    class _Wider(ContractModel):
        """A box with a size."""

        id: str
        size: int

    box = pydantic_contract(name="box", version=1, model=_Wider, identity=["id"])
    newer = Registry([*registry.all(), box], registry.lock.releasing([registry.require("shipment@2")]))
    changes = newer.changes_since(older)
    assert changes.added == ["order@1", "shipment@1", "shipment@2", "shipment_compat@1"]
    assert changes.removed == ["parcel@1"]
    assert changes.changed == ["box@1"]
    assert changes.released == []  # shipment@2 is new, not a draft that was released
    assert changes
    releasing = Registry(registry.all(), registry.lock.releasing([registry.require("shipment@2")]))
    assert vars(releasing.changes_since(registry)) == {
        "added": [],
        "removed": [],
        "changed": [],
        "released": ["shipment@2"],
    }
    assert not registry.changes_since(Registry(registry.all(), registry.lock))


def test_a_loaded_registry_records_the_files_it_read(tmp_path: Path) -> None:
    """load_registry keeps the state of every contract file and the lock, and not of caches."""
    contracts = copy_contracts(tmp_path)
    loaded = load_registry(contracts)
    assert loaded.files is not None
    assert sorted(state.path for state in loaded.files) == [
        "contracts.lock.json",
        "order/v1.py",
        "shipment/v1.py",
        "shipment/v2.json",
        "shipment_compat/v1.py",
    ]
    assert loaded.files == snapshot(contracts)  # loading wrote __pycache__ nowhere that counts
    assert Registry([]).files is None


@pytest.mark.parametrize("edit", ["add a version", "edit a release", "touch the lock", "delete a draft"])
def test_a_snapshot_sees_every_change_a_reload_must_see(tmp_path: Path, edit: str) -> None:
    """Adding a version, editing a file in place (same size), touching the lock, deleting: each changes it."""
    contracts = copy_contracts(tmp_path)
    before = snapshot(contracts)
    if edit == "add a version":
        add_shipment_v3(contracts)
    elif edit == "edit a release":
        edit_v1(contracts)
    elif edit == "touch the lock":
        lock = contracts / "contracts.lock.json"
        lock.write_bytes(lock.read_bytes())
        os.utime(lock, ns=(0, 1))
    else:
        (contracts / "shipment" / "v2.json").unlink()
    assert snapshot(contracts) != before


def test_a_snapshot_of_a_missing_directory_is_empty(tmp_path: Path) -> None:
    """A directory that is not there has no files; the load, not the snapshot, reports it."""
    assert snapshot(tmp_path / "nowhere") == frozenset()
