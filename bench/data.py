"""Deterministic shipment events for ``shipment@1``: valid, invalid, and a mix, from a seed.

Every event carries a distinct shipment id (an invalid one too, somewhere in its bytes), so each is really
stored — as a record or a failure — and never collapses into a duplicate. Templates hold :data:`ID_MARK`
where a load generator puts a fresh id per request.
"""

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

ID_MARK = "@@ID@@"
"""Placeholder for a per-request id in HTTP body templates."""

CITIES = ("Dublin", "Cork", "Galway", "Limerick", "Rotterdam", "Hamburg", "Antwerp", "Lyon", "Porto", "Oslo")

INVALID_KINDS = (
    "missing_field",
    "type_mismatch",
    "constraint",
    "business_rule",
    "unexpected_field",
    "empty_id",
    "malformed",
)
"""Every way the generator breaks an event; ``malformed`` is the only one that is not a JSON object."""

WELL_FORMED_KINDS = tuple(kind for kind in INVALID_KINDS if kind != "malformed")
"""Invalid kinds that are JSON objects: the HTTP mix uses these, since the seed-style baseline answers
malformed JSON with FastAPI's 422 before its own code runs."""


def dumps(value: Any) -> bytes:
    """Compact JSON in an exact-size bytes object.

    orjson's result keeps its over-allocated buffer (about 4 KiB for a small event here): held by the
    hundred thousand, as the validator part holds its sets, that is hundreds of MiB and a 4 KiB stride
    between events that real input bytes do not have. A copy is exact.
    """
    return bytes(memoryview(orjson.dumps(value)))


def valid_event(rng: random.Random, shipment_id: str) -> dict[str, Any]:
    """A shipment that satisfies shipment@1."""
    return {
        "shipment_id": shipment_id,
        "weight_kg": round(rng.uniform(0.5, 999.5), 2),
        "destination": rng.choice(CITIES),
        "priority": rng.randint(1, 3),
    }


def invalid_event(rng: random.Random, shipment_id: str, kind: str) -> bytes:
    """A shipment broken in one way (``kind``, one of :data:`INVALID_KINDS`)."""
    event = valid_event(rng, shipment_id)
    if kind == "malformed":
        return dumps(event)[:-9]
    if kind == "missing_field":
        del event["destination"]
    elif kind == "type_mismatch":
        event["priority"] = str(event["priority"])
    elif kind == "constraint":
        event["weight_kg"] = -event["weight_kg"]
    elif kind == "business_rule":
        event["weight_kg"] = 1000.5 + event["weight_kg"]
    elif kind == "unexpected_field":
        event["colour"] = "red"
    elif kind == "empty_id":
        event["shipment_id"], event["destination"] = "", f"{event['destination']}-{shipment_id}"
    else:
        raise ValueError(f"unknown invalid kind {kind!r}")
    return dumps(event)


def event(rng: random.Random, shipment_id: str, valid_share: float, kinds: tuple[str, ...]) -> bytes:
    """Valid with probability ``valid_share``, else invalid in one of ``kinds``."""
    if rng.random() < valid_share:
        return dumps(valid_event(rng, shipment_id))
    return invalid_event(rng, shipment_id, rng.choice(kinds))


def events(
    count: int, *, prefix: str, seed: int, valid_share: float, kinds: tuple[str, ...] = INVALID_KINDS
) -> Iterator[bytes]:
    """``count`` events with ids ``PREFIX-00000001``...; the same arguments give the same bytes."""
    rng = random.Random(seed)
    for number in range(1, count + 1):
        yield event(rng, f"{prefix}-{number:08d}", valid_share, kinds)


def write_jsonl(path: Path, count: int, *, prefix: str, seed: int, valid_share: float) -> Path:
    """Write ``count`` events as JSON Lines; return ``path``."""
    with path.open("wb") as handle:
        chunk: list[bytes] = []
        for line in events(count, prefix=prefix, seed=seed, valid_share=valid_share):
            chunk.append(line)
            if len(chunk) == 10_000:
                handle.write(b"\n".join(chunk) + b"\n")
                chunk = []
        if chunk:
            handle.write(b"\n".join(chunk) + b"\n")
    return path


def templates(count: int, *, seed: int, valid_share: float) -> list[bytes]:
    """``count`` single-event HTTP bodies with :data:`ID_MARK` for the id (well-formed kinds only)."""
    rng = random.Random(seed)
    return [event(rng, ID_MARK, valid_share, WELL_FORMED_KINDS) for _ in range(count)]


def batch_template(size: int, *, seed: int, valid_share: float) -> bytes:
    """One NDJSON body of ``size`` events whose ids are ``ID_MARK-0001``... (distinct within the batch)."""
    rng = random.Random(seed)
    lines = (event(rng, f"{ID_MARK}-{n:04d}", valid_share, WELL_FORMED_KINDS) for n in range(size))
    return b"\n".join(lines) + b"\n"
