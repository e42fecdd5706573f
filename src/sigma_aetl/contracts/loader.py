"""Load contract versions from a contracts directory.

Layout: one folder per contract, one file per version, and the lock file of released versions::

    contracts/
      contracts.lock.json   # released versions and their fingerprints (sigma-aetl contracts lock)
      shipment/
        v1.py        # a Pydantic contract: defines CONTRACT = pydantic_contract(...)
        v2.json      # a JSON Schema contract: {"name", "version", "identity", "rules", "schema"}

The folder name and the file name must agree with the name and version the file declares.

A Python contract is compiled from its source at every load, never from a ``__pycache__`` file: the
bytecode cache trusts a source whose size and modification *second* are unchanged, so a version edited
twice within one second (as a running gateway may reload it) could otherwise load its older text.
"""

import importlib.util
import re
from pathlib import Path

from pydantic import ValidationError

from sigma_aetl.contracts.backends.json_schema import contract_from_document
from sigma_aetl.contracts.lock import read_lock
from sigma_aetl.contracts.registry import Registry
from sigma_aetl.contracts.snapshot import contract_files, snapshot
from sigma_aetl.core.contract import Contract
from sigma_aetl.core.decision import FieldError
from sigma_aetl.core.jsonparse import Limits, parse
from sigma_aetl.core.rules import load_problem
from sigma_aetl.errors import ContractLoadError, ContractsDirectoryMissing

VERSION_FILE = re.compile(r"v([1-9][0-9]*)\.(py|json)")
_FILE_LIMITS = Limits(max_bytes=16 * 1024 * 1024, max_depth=200)


def load_registry(directory: Path) -> Registry:
    """Every contract version found under ``directory``, with the directory's lock of released versions."""
    if not directory.is_dir():
        where = "" if directory.is_absolute() else f" (looked in {Path.cwd()})"
        raise ContractsDirectoryMissing(f"contracts directory {str(directory)!r} does not exist{where}")
    files = snapshot(directory)  # before reading: a change made meanwhile shows as a change afterwards
    contracts = []
    for path in contract_files(directory):
        match = VERSION_FILE.fullmatch(path.name)
        if match is None:
            raise ContractLoadError(
                f"{path}: not a contract file; a contract's folder holds only v<N>.py and v<N>.json "
                "files (N = 1, 2, ... without leading zeros). Move other files out of it."
            )
        contract = load_file(path, directory)
        _check_address(contract, path.parent.name, int(match.group(1)), path)
        contracts.append(contract)
    return Registry(contracts, read_lock(directory), files=files)


def load_file(path: Path, root: Path) -> Contract:
    """One contract version file, Python or JSON."""
    if path.suffix == ".json":
        return load_json(path, root)
    return load_python(path, root)


def load_json(path: Path, root: Path) -> Contract:
    """Read one JSON Schema contract file; a repeated key or any other JSON problem names the file."""
    parsed = parse(path.read_bytes(), _FILE_LIMITS)
    if isinstance(parsed, FieldError):
        raise ContractLoadError(f"{path}: {parsed.message}")
    try:
        contract = contract_from_document(parsed.value)
    except ContractLoadError as exc:
        raise ContractLoadError(f"{path}: {exc}") from exc
    return _with_source(contract, path.relative_to(root).as_posix())


def load_python(path: Path, root: Path) -> Contract:
    """Import one Pydantic contract file and return its ``CONTRACT``."""
    module_name = f"sigma_aetl_contract_{path.parent.name}_{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None:
        raise ContractLoadError(f"{path}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    try:
        # what exec_module would run, compiled from the source itself (see the module docstring)
        exec(compile(path.read_bytes(), str(path), "exec"), module.__dict__)
    except ContractLoadError as exc:  # e.g. raised by pydantic_contract(): add the file it came from
        raise ContractLoadError(f"{path}: {exc}") from exc
    except ValidationError as exc:  # a Rule(...) or a model that cannot be built: in words, one line
        raise ContractLoadError(f"{path}: {load_problem(exc)}") from None
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
