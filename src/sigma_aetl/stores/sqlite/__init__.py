"""The embedded default store: one SQLite file (``store``), its rows, its writer process."""

from sigma_aetl.stores.sqlite.store import SqliteStore, WriterMode

__all__ = ["SqliteStore", "WriterMode"]
