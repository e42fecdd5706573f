"""Contract fingerprints: stable for the same meaning, different for any change of meaning."""

import shutil
from pathlib import Path

from pydantic import Field

from sigma_aetl.contracts import ContractModel, Rule, pydantic_contract
from sigma_aetl.contracts.loader import load_registry
from sigma_aetl.core.canonical import canonical_bytes, sha256_hex
from sigma_aetl.core.contract import Contract

REPO_CONTRACTS = Path(__file__).parents[2] / "contracts"
MAX = Rule(name="max", field="size", op="le", value=10, message="Too big.")


class _Box(ContractModel):
    """A box."""

    id: str = Field(min_length=1)
    size: int = Field(gt=0)


class _WiderBox(ContractModel):
    """A box."""

    id: str = Field(min_length=1)
    size: int = Field(ge=0)


class _LooseBox(ContractModel, extra="allow"):
    """A box."""

    id: str = Field(min_length=1)
    size: int = Field(gt=0)


def box(**overrides: object) -> Contract:
    """box@1 with ``overrides`` applied to pydantic_contract's arguments."""
    arguments: dict[str, object] = {
        "name": "box",
        "version": 1,
        "model": _Box,
        "identity": ["id"],
        "rules": [MAX],
    }
    arguments.update(overrides)
    return pydantic_contract(**arguments)  # type: ignore[arg-type]


def test_fingerprint_is_the_hash_of_the_definition() -> None:
    """The fingerprint is sha256 of the canonical definition."""
    contract = box()
    assert contract.fingerprint == "sha256:" + sha256_hex(canonical_bytes(contract.definition()))


def test_fingerprint_is_stable_across_loads(shipment: Contract) -> None:
    """Loading the same contracts again gives the same fingerprint, and building the same contract too."""
    again = load_registry(REPO_CONTRACTS).get("shipment", 1)
    assert again is not None
    assert again.fingerprint == shipment.fingerprint
    assert box().fingerprint == box().fingerprint


def test_fingerprint_does_not_depend_on_location(tmp_path: Path, shipment: Contract) -> None:
    """A copy of a contract file in another directory has the same fingerprint."""
    shutil.copytree(REPO_CONTRACTS / "shipment", tmp_path / "shipment")
    copy = load_registry(tmp_path).get("shipment", 1)
    assert copy is not None
    assert copy.fingerprint == shipment.fingerprint


def test_fingerprint_changes_with_the_model() -> None:
    """Loosening a field's constraint, or allowing extra fields, changes the fingerprint."""
    base = box().fingerprint
    assert box(model=_WiderBox).fingerprint != base
    assert box(model=_LooseBox).fingerprint != base


def test_fingerprint_changes_with_a_rule() -> None:
    """Changing a rule's bound, operator or message, adding or removing a rule, changes the fingerprint."""
    base = box().fingerprint
    variants = [
        [MAX.model_copy(update={"value": 11})],
        [MAX.model_copy(update={"op": "lt"})],
        [MAX.model_copy(update={"message": "Way too big."})],
        [MAX, Rule(name="min", field="size", op="ge", value=1, message="Too small.")],
        [],
    ]
    fingerprints = {box(rules=rules).fingerprint for rules in variants}
    assert base not in fingerprints
    assert len(fingerprints) == len(variants)


def test_fingerprint_changes_with_identity_name_version_and_description() -> None:
    """Identity fields, name, version and description are all part of the meaning."""
    base = box().fingerprint
    others = [box(identity=[]), box(name="crate"), box(version=2), box(description="A crate, really.")]
    assert base not in {contract.fingerprint for contract in others}


def test_shipment_fingerprint_is_pinned(shipment: Contract) -> None:
    """The released shipment@1 fingerprint does not drift with library upgrades unnoticed."""
    assert shipment.fingerprint == "sha256:389a339ab0b88a53548154edf79e0bf1c3beaef5eed56b093f447d2061f900d1"
