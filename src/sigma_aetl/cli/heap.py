"""The cyclic garbage collector's settings for the long-running commands (ingest, serve, worker).

The hot path builds about twenty short-lived objects per event — envelopes, decisions, records, rows,
outcomes — and no reference cycles, so reference counting frees every one of them; the cyclic collector
only walks them again, and every few thousand events walks everything start-up built too (contract models,
FastAPI, Pydantic's schemas). :func:`settle` moves what start-up built out of its reach and lets the young
generation grow larger between collections. Cycles, should any appear, are still collected, only later.
"""

import gc

YOUNG_GENERATION = 50_000
"""Allocations between two collections of the young generation (Python's default is 700)."""


def settle() -> None:
    """Call once start-up is done: collect, freeze the survivors, and collect the young less often."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION, middle, old)
