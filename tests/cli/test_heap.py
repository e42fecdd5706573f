"""The garbage collector's settings for the long-running commands."""

import gc
from collections.abc import Iterator

import pytest

from sigma_aetl.cli import heap


@pytest.fixture
def restored_gc() -> Iterator[None]:
    """Put the collector back as it was after the test."""
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("restored_gc")
def test_settle_freezes_start_up_and_collects_the_young_less_often() -> None:
    """settle() moves what exists to the permanent generation and raises only the young threshold."""
    _, middle, old = gc.get_threshold()
    heap.settle()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (heap.YOUNG_GENERATION, middle, old)
    assert gc.isenabled()


@pytest.mark.usefixtures("restored_gc")
def test_cycles_are_still_collected_after_settle() -> None:
    """A reference cycle made after settle() is still freed by the collector."""
    heap.settle()

    class Node:
        """A node that can point at another."""

        other: "Node | None" = None

    first, second = Node(), Node()
    first.other, second.other = second, first
    del first, second
    assert gc.collect() >= 2
