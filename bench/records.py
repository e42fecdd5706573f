"""From bytes to the record to store, in-process: the path before the compiled pass against the compiled pass.

The path before: ``validate`` (with its flat parse), then ``build_record``. The compiled pass:
:func:`sigma_aetl.core.compiled.record_of`, what the pipeline runs for every routed event (a valid flat
event's record in one pass; any other event decided the usual way). Both build the same records (the
part checks that on every set before it times anything). Per backend (shipment@1 and its JSON Schema
twin) and set (all valid, all invalid, the mix), the two paths run alternately, each run a loop over the
same file envelopes, timed in CPU seconds of this process (``time.process_time``: a busy machine costs
less noise than in wall time). The ratio row is run by run: compiled ÷ before, in events/s.
"""

import gc
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from bench import data
from bench.context import Context
from bench.options import CONTRACTS
from bench.stats import Figure, PartResult, Row, ratios
from bench.validator import jsonschema_twin
from sigma_aetl.contracts.loader import load_registry
from sigma_aetl.core.compiled import record_of
from sigma_aetl.core.contract import Contract
from sigma_aetl.core.envelope import Envelope
from sigma_aetl.core.records import StoredRecord, build_record
from sigma_aetl.core.validator import DEFAULT_LIMITS, validate

Build = Callable[[Contract, Envelope], StoredRecord]
_PATH = "/data/events.jsonl"
_AT = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def before(contract: Contract, envelope: Envelope) -> StoredRecord:
    """The path before the compiled pass: decide, then build."""
    return build_record(envelope, validate(contract, envelope.raw, DEFAULT_LIMITS), contract)


def compiled(contract: Contract, envelope: Envelope) -> StoredRecord:
    """The compiled pass, as the pipeline runs it."""
    return record_of(contract, envelope, DEFAULT_LIMITS)


def envelopes(events: Sequence[bytes]) -> list[Envelope]:
    """File envelopes, as ``sigma-aetl ingest`` makes them, for ``events``."""
    return [
        Envelope(
            raw,
            "shipment",
            "1",
            _AT,
            {"kind": "file", "path": _PATH, "line": line, "offset": 0},
            location=("file", _PATH, str(line)),
        )
        for line, raw in enumerate(events, 1)
    ]


def cpu_seconds(build: Build, contract: Contract, batch: Sequence[Envelope]) -> float:
    """CPU seconds to build every record of ``batch`` (garbage collection on, as in service)."""
    gc.collect()
    started = time.process_time()
    for envelope in batch:
        build(contract, envelope)
    return time.process_time() - started


def contracts() -> tuple[list[Contract], list[str]]:
    """shipment@1 and, when it can be built, its JSON Schema twin; notes on what was left out."""
    shipment = load_registry(CONTRACTS).require("shipment@1")
    twin = jsonschema_twin(shipment)
    if isinstance(twin, str):
        return [shipment], [f"JSON Schema backend not measured: {twin}."]
    return [shipment, twin], []


def run(ctx: Context) -> PartResult:
    """Events/s of each path, and their ratio, per backend and set."""
    options = ctx.options
    count, seed = options.validator_events, options.seed
    sets = {
        "valid": envelopes(list(data.events(count, prefix="V", seed=seed, valid_share=1.0))),
        "invalid": envelopes(list(data.events(count, prefix="I", seed=seed, valid_share=0.0))),
        f"mix {options.valid_share:.0%} valid": envelopes(
            list(data.events(count, prefix="M", seed=seed, valid_share=options.valid_share))
        ),
    }
    chosen, notes = contracts()
    part = PartResult("records", "From bytes to the record to store (in-process, pre-built envelopes)")
    for contract in chosen:
        for name, batch in sets.items():
            if any(before(contract, e) != compiled(contract, e) for e in batch):
                raise RuntimeError(f"the compiled pass built other records ({contract.ref}, {name})")
            old, new = _alternately(contract, batch, options.runs)
            label = f"{contract.backend} · {name}"
            part.rows += [
                Row(f"{label} · validate + build_record", old, "events/s", note=_per_event(old)),
                Row(f"{label} · compiled pass", new, "events/s", note=_per_event(new)),
                Row(f"{label} · compiled ÷ before", ratios(new, old), "x"),
            ]
    part.notes = [
        f"{count:,} envelopes per set, {options.runs} runs of each path, alternating; CPU time of one "
        "process, no I/O; both paths built the same records on every set.",
        *notes,
    ]
    return part


def _alternately(contract: Contract, batch: Sequence[Envelope], runs: int) -> tuple[Figure, Figure]:
    """Events/s of the path before and of the compiled pass, each run one after the other."""
    cpu_seconds(before, contract, batch[: max(1, len(batch) // 10)])  # warm-up
    cpu_seconds(compiled, contract, batch[: max(1, len(batch) // 10)])
    old: list[float] = []
    new: list[float] = []
    for _ in range(runs):
        old.append(len(batch) / max(cpu_seconds(before, contract, batch), 1e-9))
        new.append(len(batch) / max(cpu_seconds(compiled, contract, batch), 1e-9))
    return Figure.of(old), Figure.of(new)


def _per_event(figure: Figure) -> str:
    return f"{1e6 / figure.median:.2f} µs/event"
