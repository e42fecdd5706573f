"""A list page within its budget (``PageBudget``, ``base.py``): the same rules for every store.

A store hands :func:`take` its matching records one at a time, in page order, as it reads them, so a page
over large records never holds more than the items taken plus the one that did not fit: ten failures of
10 MB listed with the default budget hold one 10 MB record at a time, not the 100 MB of the ten.
"""

import dataclasses
from collections.abc import Iterable
from typing import TypeVar

from sigma_aetl.core import serial
from sigma_aetl.core.records import AcceptedRecord, FailureRecord
from sigma_aetl.stores.base import PageBudget

R = TypeVar("R", AcceptedRecord, FailureRecord)


def listed(record: R, budget: PageBudget) -> R:
    """``record`` as a list shows it: its raw payload omitted when over the budget's inline limit."""
    inline = budget.max_inline_raw
    if inline is None or record.raw.size <= inline:
        return record
    return dataclasses.replace(record, raw=record.raw.omitted())


def take(records: Iterable[R], limit: int, budget: PageBudget) -> tuple[list[R], bool]:
    """The first ``limit`` of ``records`` (as listed) whose JSON fits ``budget.max_bytes`` together — the
    first always — and whether any record followed them (a next page). Reads one record past the page."""
    page: list[R] = []
    used = 0
    for record in records:
        if len(page) == limit:
            return page, True
        shown = listed(record, budget)
        del record  # a large payload is freed before the next record is read, not after
        if budget.max_bytes is not None:
            used += len(serial.dumps(shown))
            if page and used > budget.max_bytes:
                return page, True
        page.append(shown)
    return page, False
