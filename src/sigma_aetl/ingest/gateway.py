"""Assemble the gateway from settings: registry, store and pipeline. Used by every face."""

from dataclasses import dataclass

from sigma_aetl.contracts.immutability import enforce
from sigma_aetl.contracts.loader import load_registry
from sigma_aetl.contracts.registry import Registry
from sigma_aetl.ingest.pipeline import Pipeline
from sigma_aetl.settings import Settings
from sigma_aetl.stores import Store, open_store


@dataclass
class Gateway:
    """The loaded contracts, the open store and the pipeline over them."""

    settings: Settings
    registry: Registry
    store: Store
    pipeline: Pipeline

    @classmethod
    def open(cls, settings: Settings, registry: Registry | None = None) -> "Gateway":
        """Load the contracts (unless given), check released versions against the lock, then open the
        store; raises ConfigError, ContractError (ContractLockError for an edited release) or StoreError."""
        registry = registry if registry is not None else load_registry(settings.contracts_dir)
        enforce(registry)
        store = open_store(settings.store_url)
        return cls(
            settings,
            registry,
            store,
            Pipeline(registry, store, settings.limits, transaction_size=settings.transaction_size),
        )

    def swap_registry(self, registry: Registry) -> None:
        """Serve ``registry`` from now on (a contract reload, see ``reload.py``): two reference
        assignments. A batch already being decided finishes on the registry it started with."""
        self.pipeline.registry = registry
        self.registry = registry

    def close(self) -> None:
        """Close the store."""
        self.store.close()
