"""``format``: asserted by default, an annotation when the contract says so, and part of the fingerprint."""

from pathlib import Path
from typing import Any

import pytest

from contract_support import REPO_CONTRACTS, document, object_schema, write_json_contract
from sigma_aetl.contracts import Rule, jsonschema_contract
from sigma_aetl.contracts.backends.json_schema import contract_from_document
from sigma_aetl.contracts.evolution.compatibility import Mode, check
from sigma_aetl.contracts.evolution.diff import diff_definitions
from sigma_aetl.contracts.loader import load_registry
from sigma_aetl.contracts.lock import read_lock
from sigma_aetl.core.contract import Contract
from sigma_aetl.core.taxonomy import RootCause
from sigma_aetl.core.validator import validate
from sigma_aetl.errors import ContractLoadError

SCHEMA = object_schema({"at": {"type": "string", "format": "date-time"}, "mail": {"format": "email"}}, [])


def contract(version: int = 1, **options: Any) -> Contract:
    """thing@version over SCHEMA."""
    return jsonschema_contract(name="thing", version=version, schema=SCHEMA, **options)


def test_formats_are_asserted_by_default() -> None:
    """A string that is not a date-time breaks ``format: date-time``: a constraint violation."""
    decision = validate(contract(), b'{"at": "yesterday", "mail": "nobody"}')
    assert [(e.path, e.root_cause) for e in decision.errors] == [
        ("at", RootCause.CONSTRAINT_VIOLATION),
        ("mail", RootCause.CONSTRAINT_VIOLATION),
    ]


def test_annotated_formats_only_describe() -> None:
    """With ``formats: annotate`` a format is an annotation, as the specification's default says."""
    assert validate(contract(formats="annotate"), b'{"at": "yesterday", "mail": "nobody"}').passed


def test_the_setting_is_part_of_the_fingerprint_only_when_set() -> None:
    """Annotating formats changes the fingerprint; saying ``assert`` explicitly is the default, whose
    definition has no such member (so fingerprints locked before the setting existed still hold)."""
    asserted, explicit, annotated = contract(), contract(formats="assert"), contract(formats="annotate")
    assert asserted.fingerprint == explicit.fingerprint != annotated.fingerprint
    assert "formats" not in asserted.definition()
    assert annotated.definition()["formats"] == "annotate"


def test_the_repository_lock_still_verifies() -> None:
    """Every released contract of the repository keeps its locked fingerprint."""
    registry = load_registry(REPO_CONTRACTS)
    lock = read_lock(REPO_CONTRACTS)
    assert lock.releases
    for (name, version), release in lock.releases.items():
        assert registry.require(f"{name}@{version}").fingerprint == release.fingerprint


def test_a_contract_file_states_the_setting(tmp_path: Path) -> None:
    """``"formats": "annotate"`` in a ``v<N>.json`` file loads; any other value is refused, naming it."""
    body = document("thing", 1, SCHEMA, formats="annotate")
    write_json_contract(tmp_path, body)
    loaded = load_registry(tmp_path).require("thing@1")
    assert loaded.fingerprint == contract(formats="annotate").fingerprint
    with pytest.raises(ContractLoadError, match="formats"):
        contract_from_document({**body, "formats": "ignore"})


def test_rules_on_annotated_instants_are_refused() -> None:
    """A rule comparing instants cannot read a date-time nothing checks: refused at load, saying why."""
    rule = Rule(name="recent", field="at", op="ge", value="2025-01-01T00:00:00Z", message="Too old.")
    contract(rules=[rule])
    with pytest.raises(ContractLoadError, match=r"rule recent reads at, a date-time .* formats: annotate"):
        contract(rules=[rule], formats="annotate")


def test_diff_and_check_see_the_setting() -> None:
    """``contracts diff`` shows the setting; asserting formats a version annotated breaks backward."""
    annotated, asserted = contract(1, formats="annotate"), contract(2)
    changes = [c.describe() for c in diff_definitions(annotated.definition(), asserted.definition())]
    assert any("formats" in line and "annotate" in line and "assert" in line for line in changes)
    report = check(annotated.definition(), asserted.definition(), Mode.BACKWARD)
    assert [p.kind for p in report.problems] == ["formats_asserted"]
    assert check(
        asserted.definition(), contract(3, formats="annotate").definition(), Mode.BACKWARD
    ).compatible
