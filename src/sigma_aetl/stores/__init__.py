"""Stores: where accepted records and failure records live. A URL selects the backend."""

from typing import Protocol

from sigma_aetl.errors import ConfigError
from sigma_aetl.redact import redact
from sigma_aetl.stores.base import Store
from sigma_aetl.stores.sqlite.store import SqliteStore


def _open_mongo(url: str, *, read_only: bool = False) -> Store:
    # imported here so that SQLite users never load pymongo
    from sigma_aetl.stores.mongo import MongoStore  # noqa: PLC0415

    return MongoStore(url, read_only=read_only)


class _Opener(Protocol):
    def __call__(self, url: str, *, read_only: bool = False) -> Store: ...


_BACKENDS: dict[str, _Opener] = {
    "sqlite": SqliteStore.from_url,
    "mongodb": _open_mongo,
    "mongodb+srv": _open_mongo,
}


def open_store(url: str, *, read_only: bool = False) -> Store:
    """Open the store a URL names: ``sqlite:///path.db`` or ``mongodb://host:27017/dbname``.

    ``read_only`` (for the commands that only read: ``stats``, ``failures``, ``contracts try``) starts no
    writer process, creates nothing (a SQLite store that does not exist is StoreUnavailable; MongoDB
    indexes are left alone) and refuses writes with StoreError.
    """
    scheme = url.split(":", 1)[0]
    opener = _BACKENDS.get(scheme)
    if opener is None:
        known = ", ".join(f"{name}://" for name in _BACKENDS)
        raise ConfigError(f"unsupported store URL {redact(url)!r}; supported schemes: {known}")
    return opener(url, read_only=read_only)


__all__ = ["Store", "open_store"]
