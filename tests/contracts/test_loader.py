"""Loading contract files: the right files, named where they live, and every broken one naming itself."""

import os
import sys
import textwrap
from pathlib import Path

import pytest

from sigma_aetl.contracts.loader import load_registry
from sigma_aetl.errors import ConfigError, ContractLoadError

GOOD = """
    from pydantic import Field
    from sigma_aetl.contracts import ContractModel, Rule, pydantic_contract

    class Thing(ContractModel):
        id: str = Field(min_length=1)
        size: int = Field(ge=0)

    CONTRACT = pydantic_contract(
        name="{name}",
        version={version},
        model=Thing,
        identity=["id"],
        rules=[Rule(name="small", field="size", op="le", value=10, message="Too big.")],
    )
"""


def write(root: Path, relative: str, body: str) -> Path:
    """Write a contract file under ``root`` and return its path."""
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(body))
    return path


def good(name: str, version: int) -> str:
    """A valid contract file body for ``name@version``."""
    return GOOD.replace("{name}", name).replace("{version}", str(version))


def refusal(root: Path) -> str:
    """The message of the ContractLoadError raised by loading ``root``."""
    with pytest.raises(ContractLoadError) as caught:
        load_registry(root)
    return str(caught.value)


def test_loads_every_version_found(tmp_path: Path) -> None:
    """Each contract folder's v<N>.py files are loaded side by side, with their source path."""
    write(tmp_path, "thing/v1.py", good("thing", 1))
    write(tmp_path, "thing/v2.py", good("thing", 2))
    write(tmp_path, "other/v1.py", good("other", 1))
    registry = load_registry(tmp_path)
    assert [c.ref for c in registry.all()] == ["other@1", "thing@1", "thing@2"]
    assert [c.source for c in registry.all()] == ["other/v1.py", "thing/v1.py", "thing/v2.py"]


def test_a_file_that_is_not_a_version_is_refused(tmp_path: Path) -> None:
    """A file in a contract folder not named v<N>.py (N without leading zero) is refused, never imported;
    a file beside the folders is not a contract file."""
    write(tmp_path, "thing/v1.py", good("thing", 1))
    write(tmp_path, "v1.py", "raise RuntimeError('must not be imported')\n")
    assert [c.ref for c in load_registry(tmp_path).all()] == ["thing@1"]
    for name in ("thing/v01.py", "thing/vx.py", "thing/helpers.py", "thing/v1.txt"):
        write(tmp_path, name, "raise RuntimeError('must not be imported')\n")
        with pytest.raises(ContractLoadError, match=f"{name}: not a contract file; a contract.s folder"):
            load_registry(tmp_path)
        (tmp_path / name).unlink()


def test_repository_contracts_load() -> None:
    """The repository's own contracts directory loads, with shipment@1 from shipment/v1.py."""
    registry = load_registry(Path(__file__).parents[2] / "contracts")
    contract = registry.get("shipment", 1)
    assert contract is not None
    assert contract.source == "shipment/v1.py"
    assert contract.identity == ("shipment_id",)
    assert [rule.name for rule in contract.rules] == ["max_weight"]
    assert contract.allow_extra is False
    assert contract.backend == "pydantic"
    assert contract.description == "A shipment handed to the carrier."


def test_missing_directory_is_a_config_error(tmp_path: Path) -> None:
    """A contracts directory that does not exist is a configuration error naming it."""
    with pytest.raises(ConfigError, match="nowhere"):
        load_registry(tmp_path / "nowhere")


def test_wrong_name_names_the_file(tmp_path: Path) -> None:
    """A file declaring another contract name than its folder is refused, naming file and both addresses."""
    path = write(tmp_path, "parcel/v1.py", good("thing", 1))
    assert refusal(tmp_path) == f"{path}: declares thing@1 but its location says parcel@1"


def test_wrong_version_names_the_file(tmp_path: Path) -> None:
    """A file declaring another version than its file name is refused, naming the file."""
    path = write(tmp_path, "thing/v2.py", good("thing", 1))
    assert refusal(tmp_path) == f"{path}: declares thing@1 but its location says thing@2"


def test_file_without_contract_names_the_file(tmp_path: Path) -> None:
    """A file that defines no CONTRACT is refused, naming the file."""
    path = write(tmp_path, "thing/v1.py", "VALUE = 1\n")
    assert refusal(tmp_path) == f"{path}: must define CONTRACT = pydantic_contract(...)"


def test_contract_of_the_wrong_type_names_the_file(tmp_path: Path) -> None:
    """A CONTRACT that is not a Contract is refused, naming the file."""
    path = write(tmp_path, "thing/v1.py", "CONTRACT = {'name': 'thing'}\n")
    assert refusal(tmp_path).startswith(f"{path}: must define CONTRACT")


def test_file_raising_on_import_names_the_file(tmp_path: Path) -> None:
    """A file that raises while importing is refused with the file, the exception type and its message."""
    path = write(tmp_path, "thing/v1.py", "raise RuntimeError('boom')\n")
    with pytest.raises(ContractLoadError) as caught:
        load_registry(tmp_path)
    assert str(caught.value) == f"{path}: RuntimeError: boom"
    assert isinstance(caught.value.__cause__, RuntimeError)


def test_file_with_a_syntax_error_names_the_file(tmp_path: Path) -> None:
    """A file that is not valid Python is refused, naming the file."""
    path = write(tmp_path, "thing/v1.py", "def broken(:\n")
    assert refusal(tmp_path).startswith(f"{path}: SyntaxError")


def test_model_ignoring_extra_fields_names_the_file(tmp_path: Path) -> None:
    """A model that silently ignores unknown fields is not a contract; the error names the file."""
    body = good("thing", 1).replace(
        "class Thing(ContractModel):", "class Thing(ContractModel, extra='ignore'):"
    )
    path = write(tmp_path, "thing/v1.py", body)
    message = refusal(tmp_path)
    assert message.startswith(f"{path}: thing@1: the model must set extra='forbid'")


def test_plain_basemodel_defaults_to_ignore_and_is_refused(tmp_path: Path) -> None:
    """A plain pydantic BaseModel (extra='ignore' by default) is refused too."""
    body = (
        good("thing", 1)
        .replace("from pydantic import Field", "from pydantic import BaseModel, Field")
        .replace("class Thing(ContractModel):", "class Thing(BaseModel):")
    )
    path = write(tmp_path, "thing/v1.py", body)
    assert refusal(tmp_path).startswith(f"{path}: thing@1: the model must set extra=")


def test_identity_field_not_in_model_names_the_file(tmp_path: Path) -> None:
    """An identity field the model does not define is refused, naming the file and the field."""
    path = write(tmp_path, "thing/v1.py", good("thing", 1).replace('identity=["id"]', 'identity=["code"]'))
    assert refusal(tmp_path) == f"{path}: thing@1: 'code' is not a field of Thing"


def test_rule_field_not_in_model_names_the_file(tmp_path: Path) -> None:
    """A rule on a field the model does not define is refused, naming the file and the field."""
    path = write(tmp_path, "thing/v1.py", good("thing", 1).replace('field="size"', 'field="weight"'))
    assert refusal(tmp_path).startswith(f"{path}: thing@1: rule small: weight is not a field of the contract")


def test_allow_extra_model_is_accepted(tmp_path: Path) -> None:
    """A model that explicitly allows extra fields loads, and says so."""
    body = good("thing", 1).replace(
        "class Thing(ContractModel):", "class Thing(ContractModel, extra='allow'):"
    )
    write(tmp_path, "thing/v1.py", body)
    contract = load_registry(tmp_path).get("thing", 1)
    assert contract is not None
    assert contract.allow_extra is True


def test_an_edit_that_keeps_size_and_second_is_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Python contract edited within the second of its last load, to the same size, loads its new text
    (Python's bytecode cache, were it written, would serve the old one)."""
    monkeypatch.setattr(sys, "dont_write_bytecode", False)  # as on a machine without PYTHONDONTWRITEBYTECODE
    path = write(tmp_path, "thing/v1.py", GOOD.format(name="thing", version=1))
    first = load_registry(tmp_path).require("thing@1")
    before = path.stat()
    path.write_text(path.read_text().replace('value=10, message="Too big."', 'value=90, message="Too big."'))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # same size, same modification time
    second = load_registry(tmp_path).require("thing@1")
    assert second.fingerprint != first.fingerprint
    assert second.rules[0].value == 90
