"""``sigma-aetl init [DIR]``: a directory to start from — the example contracts, a data directory, sample
events — and what to run next.

The examples are the package's own (:mod:`sigma_aetl.examples`): every contract folder there and the lock,
copied as they are. Nothing is overwritten unless ``--force`` is given, and even then a lock that records
releases the examples do not have is kept: replacing it would silently un-release them.
"""

import shlex
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from sigma_aetl import examples
from sigma_aetl.cli.errors import describe, fail
from sigma_aetl.contracts.loader import load_registry
from sigma_aetl.contracts.lock import LOCK_FILE, read_lock
from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core.envelope import Envelope
from sigma_aetl.core.records import accepted_record
from sigma_aetl.core.validator import validate
from sigma_aetl.errors import SigmaError

CONTRACTS = Path("contracts")
DATA = Path("data")


def init(
    directory: Annotated[
        Path,
        typer.Argument(metavar="DIR", help="Where to create them; made if missing."),
    ] = Path(),
    force: Annotated[
        bool,
        typer.Option("--force", help="Overwrite the example files that already exist (nothing else)."),
    ] = False,
) -> None:
    """Create DIR/contracts (the example contracts and their lock), DIR/data and a sample events file.

    Refuses to overwrite a file that exists, naming each, unless --force. Then says what to run next.

    Exit codes: 0 created, 2 nothing was written (a file exists, or DIR cannot be written).
    """
    sources = examples.example_files()
    existing = [relative for relative in sources if _exists(directory / relative)]
    if existing and not force:
        fail(
            f"{_shown(directory)} already holds {', '.join(p.as_posix() for p in existing)}; nothing was "
            "written. Move them away, choose another DIR, or pass --force to overwrite them."
        )
    if force:
        _refuse_to_unrelease(directory / CONTRACTS)
    try:
        for relative in sources:
            _copy(examples.HERE / relative, directory / relative)
        (directory / DATA).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail(f"{exc.filename or directory}: {exc.strerror or exc}")
    try:
        registry = load_registry(directory / CONTRACTS)
    except SigmaError as exc:  # the package's own examples: a broken install
        fail(describe(exc))
    typer.echo(next_steps(directory, registry))


def _exists(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(source.read_bytes())


def _refuse_to_unrelease(contracts: Path) -> None:
    """Exit 2 if ``contracts``' lock records releases the examples' lock has not."""
    if not (contracts / LOCK_FILE).exists():
        return
    try:
        kept = read_lock(contracts).releases.keys() - read_lock(examples.CONTRACTS).releases.keys()
    except SigmaError as exc:
        fail(f"{describe(exc)}; nothing was written")
    if kept:
        refs = ", ".join(f"{name}@{version}" for name, version in sorted(kept))
        fail(
            f"{(contracts / LOCK_FILE).as_posix()} records releases the examples do not ({refs}): "
            "overwriting it would un-release them, so nothing was written. Move it away first."
        )


def next_steps(directory: Path, registry: Registry) -> str:
    """What was created, and the commands of a first hour, ready to copy and paste (comments included)."""
    contracts = ", ".join(f"{c.ref} ({registry.state(c).value})" for c in registry.all())
    sample = examples.SAMPLE_EVENTS.name
    events = _count_lines(examples.SAMPLE_EVENTS)
    here = directory.resolve() == Path.cwd().resolve()
    return "\n".join(
        [
            f"Created in {_shown(directory)}:",
            f"  contracts/        example contracts: {contracts}, and their lock",
            "  data/             where serve and ingest keep the SQLite store (data/sigma-aetl.db)",
            f"  {sample:<17} {events} sample events for {examples.SAMPLE_CONTRACT}: valid, invalid, a repeat",
            "",
            "Next, run the gateway there and leave it running (http://127.0.0.1:8000):",
            *([] if here else [f"  cd {shlex.quote(str(directory))}"]),
            "  sigma-aetl serve",
            "Then, in another terminal in the same directory:",
            *_first_event(registry),
            "  # store the sample events (the repeat stores nothing new), then see why some failed",
            f"  sigma-aetl ingest {examples.SAMPLE_CONTRACT} {sample}",
            "  sigma-aetl failures list",
            "  curl -s localhost:8000/v1/stats",
        ]
    )


def _first_event(registry: Registry) -> list[str]:
    """The curl commands that send the first sample event and read back the record it becomes."""
    contract = registry.require(examples.SAMPLE_CONTRACT)
    raw = examples.SAMPLE_EVENTS.read_bytes().splitlines()[0]
    decision = validate(contract, raw)
    url = f"localhost:8000/v1/ingest/{contract.name}/{contract.version}"
    send = f"  curl -s {url} -d {shlex.quote(raw.decode())}"
    if not decision.passed or decision.data is None:
        return ["  # send one event", send]
    arrival = Envelope(raw, contract.name, str(contract.version), datetime.now(UTC))
    record = accepted_record(arrival, decision.data, contract)
    return [
        "  # send one event, then read back the record it became",
        send,
        f"  curl -s localhost:8000/v1/records/{record.record_id}",
    ]


def _count_lines(path: Path) -> int:
    return sum(1 for line in path.read_bytes().splitlines() if line.strip())


def _shown(directory: Path) -> str:
    return str(directory.resolve())
