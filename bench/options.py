"""Run options: sizes, durations and paths, with the full and the ``--quick`` presets."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
"""The repository the harness belongs to: it benchmarks this tree's ``src/`` and ``contracts/``."""
CONTRACTS = REPO / "contracts"
DEFAULT_OUTPUT = REPO / "docs" / "benchmarks.md"


@dataclass(frozen=True)
class Options:
    """Everything a part needs to know about this run."""

    runs: int
    validator_events: int
    events: int
    prefill: int
    kafka_events: int
    audit_events: int
    duration: float
    warmup: float
    connections: int
    batch_events: int
    batch_connections: int
    soak_minutes: float
    soak_interval: float
    profile_seconds: float
    valid_share: float
    seed: int
    workdir: Path
    output: Path
    json_out: Path | None
    loadgen: str
    install: bool
    sqlite_sync: str
    note: str
    quick: bool
    scale: int = 5_000_000
    """Failures in the store of the ``classes`` part; stored events in the ``analytics`` part's."""
    sizes: tuple[int, ...] = (0, 1_000_000, 5_000_000, 20_000_000)
    """Store sizes of the ``growth`` part's series."""

    def store_url(self, path: Path, synchronous: str | None = None) -> str:
        """The SQLite URL of ``path`` (absolute), with this run's ``synchronous`` unless given."""
        return f"sqlite:///{path.resolve()}?synchronous={synchronous or self.sqlite_sync}"


FULL: dict[str, Any] = {
    "runs": 3,
    "validator_events": 50_000,
    "events": 200_000,
    "prefill": 5_000_000,
    "kafka_events": 200_000,
    "audit_events": 1_000_000,
    "duration": 10.0,
    "warmup": 2.0,
    "soak_minutes": 10.0,
    "soak_interval": 5.0,
    "profile_seconds": 15.0,
    "scale": 5_000_000,
    "sizes": (0, 1_000_000, 5_000_000, 20_000_000),
}
"""Sizes of the full run (the issue's figures)."""

QUICK: dict[str, Any] = {
    "runs": 3,
    "validator_events": 5_000,
    "events": 10_000,
    "prefill": 20_000,
    "kafka_events": 10_000,
    "audit_events": 10_000,
    "duration": 3.0,
    "warmup": 1.0,
    "soak_minutes": 0.5,
    "soak_interval": 1.0,
    "profile_seconds": 5.0,
    "scale": 20_000,
    "sizes": (0, 50_000, 100_000),
}
"""Tiny sizes: every part in a few minutes, for checking the harness rather than the gateway."""
