"""Scaffolding the next version: same format, only the version changed, never touching existing files."""

from pathlib import Path

import pytest

from contract_support import copy_repository_contracts, object_schema, write_json_contract
from sigma_aetl.contracts.evolution.diff import diff_definitions
from sigma_aetl.contracts.evolution.scaffold import new_version
from sigma_aetl.contracts.loader import load_registry
from sigma_aetl.contracts.lock import LOCK_FILE, ReleaseState
from sigma_aetl.errors import ContractError, ContractNotFound


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` and its bytes."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_json_contract_gets_its_next_version_in_place(tmp_path: Path) -> None:
    """v3.json is v2.json with the version changed, formatting kept; v3 is a draft with v2's meaning."""
    root = copy_repository_contracts(tmp_path / "contracts")
    before = snapshot(root)
    created = new_version(load_registry(root), "shipment", root)
    assert (created.ref, created.source, created.origin) == ("shipment@3", "shipment/v3.json", "shipment@2")
    assert created.origin_state is ReleaseState.DRAFT
    v2 = (root / "shipment" / "v2.json").read_text()
    assert created.path.read_text() == v2.replace('"version": 2,', '"version": 3,', 1)
    assert snapshot(root) == {**before, "shipment/v3.json": created.path.read_bytes()}
    registry = load_registry(root)
    v3 = registry.require("shipment@3")
    assert registry.state(v3) is ReleaseState.DRAFT
    assert diff_definitions(registry.require("shipment@2").definition(), v3.definition()) == []


def test_python_contract_gets_its_next_version(tmp_path: Path) -> None:
    """v2.py is v1.py with version=2 and a draft docstring; the released v1.py is untouched."""
    root = copy_repository_contracts(tmp_path / "contracts")
    (root / "shipment" / "v2.json").unlink()
    v1 = (root / "shipment" / "v1.py").read_bytes()
    created = new_version(load_registry(root), "shipment", root)
    assert (created.ref, created.origin_state) == ("shipment@2", ReleaseState.RELEASED)
    text = created.path.read_text()
    assert text.startswith('"""shipment@2 — a draft, scaffolded from shipment@1.\n')
    assert "sigma-aetl contracts lock shipment@2" in text
    assert "    version=2,\n" in text
    assert "version=1" not in text
    assert (root / "shipment" / "v1.py").read_bytes() == v1
    registry = load_registry(root)
    assert (
        diff_definitions(
            registry.require("shipment@1").definition(), registry.require("shipment@2").definition()
        )
        == []
    )


def test_an_existing_file_is_never_overwritten(tmp_path: Path) -> None:
    """When any v<N+1> file exists already, nothing is written."""
    root = copy_repository_contracts(tmp_path / "contracts")
    registry = load_registry(root)
    (root / "shipment" / "v3.txt").write_text("notes")  # appears after the contracts were loaded
    before = snapshot(root)
    with pytest.raises(ContractError, match=r"v3\.txt already exists"):
        new_version(registry, "shipment", root)
    assert snapshot(root) == before


def test_an_unknown_contract_cannot_be_scaffolded(tmp_path: Path) -> None:
    """Scaffolding a contract that has no version is refused."""
    root = copy_repository_contracts(tmp_path / "contracts")
    with pytest.raises(ContractNotFound, match="no contract is named 'parcel'"):
        new_version(load_registry(root), "parcel", root)


def test_a_file_that_cannot_be_rewritten_is_refused(tmp_path: Path) -> None:
    """A Python contract whose version is not a literal in pydantic_contract(...) is left to a person."""
    root = tmp_path / "contracts"
    (root / "box").mkdir(parents=True)
    (root / "box" / "v1.py").write_text(
        "from sigma_aetl.contracts import ContractModel, pydantic_contract\n"
        "class Box(ContractModel):\n    id: str\n"
        "V = 1\nCONTRACT = pydantic_contract(name='box', version=V, model=Box)\n"
    )
    with pytest.raises(ContractError, match="cannot find one pydantic_contract"):
        new_version(load_registry(root), "box", root)
    assert not (root / "box" / "v2.py").exists()


def test_a_json_contract_without_lock_or_siblings(tmp_path: Path) -> None:
    """A lone JSON contract scaffolds too, even with nested "version" keys inside its schema."""
    schema = object_schema({"version": {"type": "integer", "const": 1}})
    write_json_contract(tmp_path, {"schema": schema, "name": "box", "version": 1})  # nested "version" first
    created = new_version(load_registry(tmp_path), "box", tmp_path)
    registry = load_registry(tmp_path)
    assert registry.require("box@2").json_schema == schema
    assert created.path.name == "v2.json"
    assert not (tmp_path / LOCK_FILE).exists()
