"""Load contract versions from a contracts directory.

Layout: one folder per contract, one file per version::

    contracts/
      shipment/
        v1.py        # a Pydantic contract: defines CONTRACT = pydantic_contract(...)

The folder name and the file name must agree with the name and version the file declares.
"""

import importlib.util
import re
from pathlib import Path

from sigma_aetl.contracts.model import Contract
from sigma_aetl.contracts.registry import Registry
from sigma_aetl.errors import ConfigError, ContractLoadError

_FILE = re.compile(r"v([1-9][0-9]*)\.py")


def load_registry(directory: Path) -> Registry:
    """Every contract version found under ``directory``."""
    if not directory.is_dir():
        raise ConfigError(f"contracts directory {str(directory)!r} does not exist")
    contracts = []
    for path in sorted(directory.glob("*/v*.py")):
        match = _FILE.fullmatch(path.name)
        if match is None:
            continue
        contract = load_python(path, directory)
        _check_address(contract, path.parent.name, int(match.group(1)), path)
        contracts.append(contract)
    return Registry(contracts)


def load_python(path: Path, root: Path) -> Contract:
    """Import one Pydantic contract file and return its ``CONTRACT``."""
    module_name = f"sigma_aetl_contract_{path.parent.name}_{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ContractLoadError(f"{path}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except ContractLoadError as exc:  # e.g. raised by pydantic_contract(): add the file it came from
        raise ContractLoadError(f"{path}: {exc}") from exc
    except Exception as exc:  # a broken contract file must name itself, whatever it raised
        raise ContractLoadError(f"{path}: {type(exc).__name__}: {exc}") from exc
    contract = getattr(module, "CONTRACT", None)
    if not isinstance(contract, Contract):
        raise ContractLoadError(f"{path}: must define CONTRACT = pydantic_contract(...)")
    return _with_source(contract, path.relative_to(root).as_posix())


def _with_source(contract: Contract, source: str) -> Contract:
    object.__setattr__(contract, "source", source)
    return contract


def _check_address(contract: Contract, folder: str, version: int, path: Path) -> None:
    if (contract.name, contract.version) != (folder, version):
        raise ContractLoadError(f"{path}: declares {contract.ref} but its location says {folder}@{version}")
