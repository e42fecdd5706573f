"""pymongo's errors at the store's boundary: which are transient, how they are retried, what they become.

    PyMongoError, transient    → StoreUnavailable   the network, an election, a write concern not yet
                                                    satisfied, a server timeout, a retryable label
    PyMongoError, other        → StoreError
    BSONError, OverflowError   → StoreError         a document BSON cannot encode

pymongo and bson exceptions never leave the store: every public method of
:class:`~sigma_aetl.stores.mongo.store.MongoStore` runs inside :func:`translate_errors`.
"""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from bson.errors import BSONError
from pymongo.errors import (
    BulkWriteError,
    ConnectionFailure,
    ExecutionTimeout,
    PyMongoError,
    WriteConcernError,
)

from sigma_aetl.errors import StoreError, StoreUnavailable

# Fixed, not settings: pymongo's own server selection already waits up to serverSelectionTimeoutMS for a
# primary (through an election), so these retries only bridge a dropped connection or a write concern
# not yet met; the URL's timeouts are what bound each attempt.
RETRIES = 3
BACKOFF = 0.1  # seconds before the first retry, doubled before each next one

_T = TypeVar("_T")


def is_transient(exc: PyMongoError) -> bool:
    """Worth retrying: the network, an election, a write concern not yet satisfied, a server timeout."""
    if isinstance(exc, ConnectionFailure | ExecutionTimeout | WriteConcernError):
        return True
    if isinstance(exc, BulkWriteError) and exc.details.get("writeConcernErrors"):
        return True
    return exc.has_error_label("RetryableWriteError") or exc.has_error_label("TransientTransactionError")


def retrying(action: Callable[[], _T]) -> _T:
    """``action()``, tried again up to RETRIES times after a transient error; any other error is raised."""
    for attempt in range(RETRIES):
        try:
            return action()
        except PyMongoError as exc:
            if not is_transient(exc):
                raise
        time.sleep(BACKOFF * 2**attempt)
    return action()


@contextmanager
def translate_errors() -> Iterator[None]:
    """Turn pymongo and bson exceptions into the store's own errors at the boundary."""
    try:
        yield
    except PyMongoError as exc:
        kind = StoreUnavailable if is_transient(exc) else StoreError
        raise kind(f"MongoDB: {_first_line(exc)}") from exc
    except (BSONError, OverflowError) as exc:
        raise StoreError(f"MongoDB: cannot encode a document: {exc}") from exc


def _first_line(exc: Exception) -> str:
    # pymongo appends the server's whole reply or the topology description; the first part says what failed
    text = str(exc)
    return text.partition(", full error:")[0].partition(", Timeout:")[0][:500]
