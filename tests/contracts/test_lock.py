"""Immutability: the lock file of released versions, and the gateway refusing an edited or deleted release."""

import json
from pathlib import Path

import pytest

from contract_support import REPO_CONTRACTS, copy_repository_contracts, document, object_schema
from contract_support import write_json_contract as write_contract
from sigma_aetl.contracts import jsonschema_contract
from sigma_aetl.contracts.immutability import enforce, verify
from sigma_aetl.contracts.loader import load_registry
from sigma_aetl.contracts.lock import LOCK_FILE, Lock, ReleaseState, read_lock, write_lock
from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core.contract import Contract
from sigma_aetl.errors import ContractLoadError, ContractLockError
from sigma_aetl.ingest.gateway import Gateway
from sigma_aetl.settings import Settings

SCHEMA = object_schema({"id": {"type": "string"}, "size": {"type": "integer", "maximum": 10}})


def box(version: int, name: str = "box", maximum: int = 10) -> Contract:
    """A small JSON Schema contract ``name@version``."""
    schema = object_schema({"id": {"type": "string"}, "size": {"type": "integer", "maximum": maximum}})
    return jsonschema_contract(name=name, version=version, schema=schema, identity=["id"])


@pytest.fixture
def tampered(tmp_path: Path) -> Path:
    """A copy of the repository's contracts where released shipment@1 was edited in place."""
    root = copy_repository_contracts(tmp_path / "contracts")
    v1 = root / "shipment" / "v1.py"
    v1.write_text(v1.read_text().replace("ge=1, le=3", "ge=1, le=5").replace("value=1000", "value=900"))
    return root


def test_the_repository_lock_verifies(registry: Registry) -> None:
    """The committed lock releases shipment@1 and shipment_compat@1, leaves shipment@2 and order@1 drafts,
    and matches."""
    assert verify(registry) == []
    enforce(registry)
    states = {contract.ref: registry.state(contract) for contract in registry.all()}
    assert states == {
        "order@1": ReleaseState.DRAFT,
        "shipment@1": ReleaseState.RELEASED,
        "shipment@2": ReleaseState.DRAFT,
        "shipment_compat@1": ReleaseState.RELEASED,
    }
    assert registry.lock.path == REPO_CONTRACTS / LOCK_FILE


def test_the_repository_lock_file_is_in_canonical_form(registry: Registry) -> None:
    """The committed lock file is byte for byte what `contracts lock` writes, so relocking changes nothing."""
    assert (REPO_CONTRACTS / LOCK_FILE).read_bytes() == registry.lock.to_bytes()
    assert registry.lock.releasing([registry.require("shipment@1")]).to_bytes() == registry.lock.to_bytes()


def test_lock_bytes_are_deterministic() -> None:
    """The same releases give the same bytes whatever the order: sorted keys, versions in numeric order."""
    contracts = [box(10), box(2), box(1, name="abc")]
    forward = Lock().releasing(contracts).to_bytes()
    assert forward == Lock().releasing(reversed(contracts)).to_bytes()
    entries = json.loads(forward)["released"]
    assert [(e["contract"], e["version"]) for e in entries] == [("abc", 1), ("box", 2), ("box", 10)]
    assert forward.endswith(b"}\n")
    assert list(json.loads(forward)) == ["about", "format", "released"]


def test_lock_round_trips_through_the_file(tmp_path: Path) -> None:
    """A written lock reads back with the same fingerprints, sources and definitions."""
    lock = Lock().releasing([box(1), box(2)])
    path = write_lock(lock, tmp_path)
    assert path == tmp_path / LOCK_FILE
    again = read_lock(tmp_path)
    assert again.releases == lock.releases
    assert again.path == path
    assert not list(tmp_path.glob(".contracts.lock.*"))  # no temporary file left behind


def test_a_directory_without_a_lock_file_has_only_drafts(tmp_path: Path) -> None:
    """With no lock file every version is a draft and nothing is violated."""
    registry = Registry([box(1)], read_lock(tmp_path))
    assert registry.state(box(1)) is ReleaseState.DRAFT
    assert verify(registry) == []


def test_releasing_never_replaces_an_entry() -> None:
    """Releasing a version that is already released keeps the first entry; the state says modified."""
    lock = Lock().releasing([box(1)])
    edited = box(1, maximum=99)
    assert lock.releasing([edited]).releases == lock.releases
    assert lock.state(box(1)) is ReleaseState.RELEASED
    assert lock.state(edited) is ReleaseState.MODIFIED
    assert lock.state(box(2)) is ReleaseState.DRAFT


def test_an_edited_release_names_itself_and_shows_what_changed(tampered: Path) -> None:
    """A release edited in place is a violation naming the version, its file and each change."""
    registry = load_registry(tampered)
    [violation] = verify(registry)
    assert (violation.release.ref, violation.problem) == ("shipment@1", "modified")
    assert violation.current == registry.require("shipment@1").fingerprint
    assert [change.describe() for change in violation.changes] == [
        "changed  field priority: maximum 3 → 5",
        "changed  rule max_weight: weight_kg <= 1000 → weight_kg <= 900",
    ]
    assert registry.state(registry.require("shipment@1")) is ReleaseState.MODIFIED
    with pytest.raises(ContractLockError) as caught:
        enforce(registry)
    message = str(caught.value)
    assert message.startswith(f"{tampered / LOCK_FILE}: 1 released contract version(s) no longer match")
    for text in ("shipment@1 (shipment/v1.py): edited after release", "maximum 3 → 5", "new version"):
        assert text in message


def test_a_deleted_release_is_a_violation(tmp_path: Path) -> None:
    """A released version whose file is gone is a violation too."""
    root = copy_repository_contracts(tmp_path / "contracts")
    (root / "shipment" / "v1.py").unlink()
    registry = load_registry(root)
    [violation] = verify(registry)
    assert (violation.release.ref, violation.problem, violation.changes) == ("shipment@1", "missing", [])
    with pytest.raises(ContractLockError, match="released, but no contract file defines it any more"):
        enforce(registry)


def test_reformatting_a_released_file_is_not_a_change(tmp_path: Path) -> None:
    """The lock guards meaning, not bytes: comments and layout may change, the fingerprint does not."""
    root = copy_repository_contracts(tmp_path / "contracts")
    v1 = root / "shipment" / "v1.py"
    v1.write_text("# a comment\n\n" + v1.read_text().replace("    rules=[", "    rules = [", 1))
    assert verify(load_registry(root)) == []


def test_a_change_no_field_explains_is_still_shown(tmp_path: Path) -> None:
    """A change outside fields, rules and identity (here the model's title) is shown by its location."""
    root = copy_repository_contracts(tmp_path / "contracts")
    v1 = root / "shipment" / "v1.py"
    v1.write_text(
        v1.read_text().replace("class Shipment(", "class Parcel(").replace("model=Shipment", "model=Parcel")
    )
    [violation] = verify(load_registry(root))
    assert [change.describe() for change in violation.changes] == [
        'changed  definition /schema/title: "Shipment" → "Parcel"'
    ]


def test_the_gateway_refuses_to_open_on_an_edited_release(tampered: Path, tmp_path: Path) -> None:
    """Gateway.open (serve, ingest, worker) refuses an edited release before opening the store."""
    store = tmp_path / "data" / "gateway.db"
    settings = Settings(store_url=f"sqlite:///{store}", contracts_dir=tampered)
    with pytest.raises(ContractLockError, match="shipment@1"):
        Gateway.open(settings)
    assert not store.exists()


def test_the_gateway_opens_with_drafts(tmp_path: Path) -> None:
    """Draft versions are served: the gateway opens on the repository's contracts, drafts included."""
    settings = Settings(store_url=f"sqlite:///{tmp_path}/gateway.db", contracts_dir=REPO_CONTRACTS)
    gateway = Gateway.open(settings)
    try:
        assert [contract.ref for contract in gateway.registry.all()] == [
            "order@1",
            "shipment@1",
            "shipment@2",
            "shipment_compat@1",
        ]
    finally:
        gateway.close()


def test_an_empty_registry_given_to_the_gateway_is_used(tmp_path: Path) -> None:
    """A registry passed in is the one served, even an empty one (no silent reload from disk)."""
    settings = Settings(store_url=f"sqlite:///{tmp_path}/gateway.db", contracts_dir=REPO_CONTRACTS)
    gateway = Gateway.open(settings, Registry([]))
    try:
        assert len(gateway.registry) == 0
    finally:
        gateway.close()


def test_a_hand_edited_lock_entry_is_refused(tmp_path: Path) -> None:
    """A lock entry whose definition no longer hashes to its fingerprint is refused as hand-edited."""
    write_lock(Lock().releasing([box(1)]), tmp_path)
    path = tmp_path / LOCK_FILE
    path.write_text(path.read_text().replace('"maximum": 10', '"maximum": 11'))
    with pytest.raises(ContractLoadError, match="box@1 does not match its own fingerprint"):
        read_lock(tmp_path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "Not valid JSON"),
        ('{"format": 2, "released": []}', "not a contracts lock file"),
        ('{"released": [], "released": []}', "appears twice"),
    ],
)
def test_a_broken_lock_file_names_itself(tmp_path: Path, text: str, message: str) -> None:
    """A lock file that cannot be read is a load error naming the file."""
    (tmp_path / LOCK_FILE).write_text(text)
    with pytest.raises(ContractLoadError, match=message) as caught:
        read_lock(tmp_path)
    assert str(caught.value).startswith(str(tmp_path / LOCK_FILE))


def test_a_version_released_twice_is_refused(tmp_path: Path) -> None:
    """A lock file listing one version twice is refused."""
    entry = json.loads(Lock().releasing([box(1)]).to_bytes())["released"][0]
    (tmp_path / LOCK_FILE).write_text(json.dumps({"format": 1, "released": [entry, entry]}))
    with pytest.raises(ContractLoadError, match="box@1 is released twice"):
        read_lock(tmp_path)


def test_load_registry_reads_the_lock(tmp_path: Path) -> None:
    """Loading a contracts directory also loads its lock, so states are known wherever contracts are."""
    write_contract(tmp_path, document("box", 1, SCHEMA))
    write_contract(tmp_path, document("box", 2, SCHEMA))
    write_lock(Lock().releasing([load_registry(tmp_path).require("box@1")]), tmp_path)
    registry = load_registry(tmp_path)
    assert [registry.state(c).value for c in registry.all()] == ["released", "draft"]
