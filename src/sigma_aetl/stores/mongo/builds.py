"""The one-time builds of a MongoDB store made before a derived collection existed (failure classes,
analytics roll-ups): whether each is done, and the error a read-only reader gets before it is.

``sigma_aetl_meta`` holds one document per build, ``{"_id": name, "version": n}``, written once the
build has counted every stored document (``class_build.py``, ``rollup_build.py``).
"""

from sigma_aetl.errors import StoreError
from sigma_aetl.stores.mongo.classes import META
from sigma_aetl.stores.mongo.layout import Layout


def done(layout: Layout, name: str, version: int) -> bool:
    """Whether the build ``name`` has run to its end at ``version`` or later."""
    found = layout.database[META].find_one({"_id": name})
    return found is not None and found.get("version", 0) >= version


def mark_done(layout: Layout, name: str, version: int) -> None:
    """Record the build ``name`` as done at ``version``."""
    layout.database[META].update_one({"_id": name}, {"$set": {"version": version}}, upsert=True)


def require(layout: Layout, name: str, version: int, *, what: str, source: str) -> None:
    """Raise StoreError unless the build is done (or the store holds nothing at all): ``what`` the build
    makes, from ``source``, in the words the error gives."""
    if done(layout, name, version):
        return
    if layout.names() or layout.unrouted.find_one({}, {"_id": 1}) is not None:
        raise StoreError(
            f"the MongoDB store was made before {what} and has not been migrated: open it once for writing "
            f"(any `sigma-aetl ingest`, `serve` or `worker` on it does) to build them from its {source}"
        )
