"""The validator alone: ``validate(contract, raw)`` in a loop over pre-built bytes, per backend.

Sets: all valid, all invalid (every kind of :data:`bench.data.INVALID_KINDS`), and the mix. Backends:
the Pydantic contract ``shipment@1``; a JSON Schema twin of it (its JSON Schema and rules compiled by the
JSON Schema backend, when that backend exists: :func:`jsonschema_twin` is the hook); and, for reference,
the seed-style check (``json.loads`` + lax ``Model(**payload)`` + the weight rule, as
:mod:`bench.baseline_app` does it).
"""

import gc
import json
import time
from collections.abc import Callable, Sequence

from bench import baseline_app, data
from bench.context import Context
from bench.options import CONTRACTS, Options
from bench.stats import Figure, PartResult, Row
from sigma_aetl.contracts.loader import load_registry
from sigma_aetl.core.contract import Contract
from sigma_aetl.core.validator import validate

Check = Callable[[bytes], bool]
"""One backend's decision on raw bytes: True when PASSED."""


def jsonschema_twin(contract: Contract) -> Contract | str:
    """``contract`` re-expressed for the JSON Schema backend, or why that cannot be done (yet)."""
    try:
        from sigma_aetl.contracts.backends.json_schema import (  # noqa: PLC0415 — optional backend
            DRAFT_2020_12,
            jsonschema_contract,
        )
    except ImportError as exc:
        return f"no JSON Schema backend in this tree ({exc})"
    try:
        return jsonschema_contract(
            name=contract.name,
            version=contract.version,
            schema={"$schema": DRAFT_2020_12, **contract.json_schema},
            identity=contract.identity,
            rules=contract.rules,
            description=contract.description,
        )
    except Exception as exc:  # noqa: BLE001 - the backend is young: report what stops the twin, go on
        return f"the JSON Schema twin of {contract.ref} could not be built: {type(exc).__name__}: {exc}"


def backends() -> tuple[dict[str, Check], list[str]]:
    """The checks to measure, by label, and notes on what was left out and why."""
    shipment = load_registry(CONTRACTS).require("shipment@1")
    checks: dict[str, Check] = {f"{shipment.backend} · {shipment.ref}": _gateway_check(shipment)}
    notes: list[str] = []
    twin = jsonschema_twin(shipment)
    if isinstance(twin, str):
        notes.append(f"JSON Schema backend not measured: {twin}.")
    else:
        checks[f"{twin.backend} · twin of {shipment.ref}"] = _gateway_check(twin)
    checks["seed-style baseline (lax Model(**payload))"] = _baseline_check
    return checks, notes


def _gateway_check(contract: Contract) -> Check:
    return lambda raw: validate(contract, raw).passed


def _baseline_check(raw: bytes) -> bool:
    try:
        payload = json.loads(raw)
    except ValueError:
        return False  # FastAPI would answer 422 before the endpoint runs
    if not isinstance(payload, dict):
        return False
    return bool(baseline_app.judge(payload)["status"] == "PASSED")


def event_sets(options: Options) -> dict[str, list[bytes]]:
    """The three sets, ``validator_events`` each."""
    count, seed = options.validator_events, options.seed
    return {
        "valid": list(data.events(count, prefix="V", seed=seed, valid_share=1.0)),
        "invalid": list(data.events(count, prefix="I", seed=seed, valid_share=0.0)),
        f"mix {options.valid_share:.0%} valid": list(
            data.events(count, prefix="M", seed=seed, valid_share=options.valid_share)
        ),
    }


def time_loop(check: Check, events: Sequence[bytes]) -> tuple[float, int]:
    """Seconds to decide every event, and how many passed (garbage collection left on, as in service)."""
    gc.collect()
    started = time.perf_counter()
    passed = sum(1 for raw in events if check(raw))
    return time.perf_counter() - started, passed


def run(ctx: Context) -> PartResult:
    """Events/s and µs/event per backend and set."""
    options = ctx.options
    checks, notes = backends()
    sets = event_sets(options)
    part = PartResult("validator", "Validator alone (in-process, pre-built bytes)")
    for label, check in checks.items():
        for name, events in sets.items():
            time_loop(check, events[: max(1, len(events) // 10)])  # warm-up
            timings = [time_loop(check, events) for _ in range(options.runs)]
            part.rows.append(_row(f"{label} · {name}", events, timings))
    part.notes = [
        f"{options.validator_events:,} events per set, {options.runs} runs; one core, no I/O.",
        "The seed-style row is the baseline's schema check and rule only (JSON parsed with json.loads).",
        *notes,
    ]
    return part


def _row(metric: str, events: Sequence[bytes], timings: list[tuple[float, int]]) -> Row:
    figure = Figure.of(len(events) / seconds for seconds, _ in timings)
    passed = timings[0][1] / len(events)
    return Row(metric, figure, "events/s", note=f"{1e6 / figure.median:.1f} µs/event · {passed:.0%} passed")
