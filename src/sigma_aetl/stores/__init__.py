"""Stores: where accepted records and failure records live. A URL selects the backend."""

from collections.abc import Callable

from sigma_aetl.errors import ConfigError
from sigma_aetl.redact import redact
from sigma_aetl.stores.base import Store
from sigma_aetl.stores.sqlite.store import SqliteStore


def _open_mongo(url: str) -> Store:
    # imported here so that SQLite users never load pymongo
    from sigma_aetl.stores.mongo import MongoStore  # noqa: PLC0415

    return MongoStore(url)


_BACKENDS: dict[str, Callable[[str], Store]] = {
    "sqlite": SqliteStore.from_url,
    "mongodb": _open_mongo,
    "mongodb+srv": _open_mongo,
}


def open_store(url: str) -> Store:
    """Open the store a URL names: ``sqlite:///path.db`` or ``mongodb://host:27017/dbname``."""
    scheme = url.split(":", 1)[0]
    opener = _BACKENDS.get(scheme)
    if opener is None:
        known = ", ".join(f"{name}://" for name in _BACKENDS)
        raise ConfigError(f"unsupported store URL {redact(url)!r}; supported schemes: {known}")
    return opener(url)


__all__ = ["Store", "open_store"]
