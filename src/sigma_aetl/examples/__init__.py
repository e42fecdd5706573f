"""The examples shipped in the package: the example contracts (with their lock) and sample events.

They are package data, and this is their one copy: the repository's ``contracts/`` is a link to
:data:`CONTRACTS`, and ``sigma-aetl init`` copies them into a directory of the user's choosing::

    contracts/                 every contract folder (shipment/v1.py released, shipment/v2.json draft, ...)
      contracts.lock.json      the released versions
    shipments.jsonl            sample events for shipment@1: valid ones, invalid ones, a repeat

They are plain files beside this module, as the contracts loader needs them (it imports ``v<N>.py`` files
by path): a wheel installs them unzipped.
"""

from pathlib import Path

HERE = Path(__file__).parent
CONTRACTS = HERE / "contracts"
"""The example contracts directory."""
SAMPLE_EVENTS = HERE / "shipments.jsonl"
"""Sample events, one per line: valid ones, invalid ones (each for a different reason), and a repeat."""
SAMPLE_CONTRACT = "shipment@1"
"""The contract version the sample events are addressed to."""


def example_files() -> list[Path]:
    """Every file to copy, relative to :data:`HERE`: the sample events, then everything in the contracts
    directory (each contract folder, whatever its name, and the lock) except hidden files and caches."""
    contracts = sorted(
        path.relative_to(HERE)
        for path in CONTRACTS.rglob("*")
        if path.is_file() and not _skipped(path.relative_to(CONTRACTS))
    )
    return [SAMPLE_EVENTS.relative_to(HERE), *contracts]


def _skipped(relative: Path) -> bool:
    return any(part.startswith((".", "__")) for part in relative.parts) or relative.suffix == ".pyc"
