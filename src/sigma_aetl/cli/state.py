"""What every command gets from the root callback — the frozen Settings — and what it builds from them.

The settings are built once, in :func:`sigma_aetl.cli.app.root`, and travel in ``ctx.obj``; no command
reads the environment itself.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import typer

from sigma_aetl.contracts.loader import load_registry
from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core.contract import Contract
from sigma_aetl.ingest.gateway import Gateway
from sigma_aetl.settings import Settings


def settings_of(ctx: typer.Context) -> Settings:
    """The settings the root callback built."""
    settings = ctx.find_root().obj
    if not isinstance(settings, Settings):
        raise RuntimeError("the sigma-aetl root callback did not run")
    return settings


def load_contracts(settings: Settings) -> Registry:
    """The contracts alone, without opening the store; raises ConfigError or ContractError."""
    return load_registry(settings.contracts_dir)


def require_contract(settings: Settings, ref: str) -> Contract:
    """One contract version, named by an operator; raises ContractNotFound listing the known ones."""
    return load_contracts(settings).require(ref)


@contextmanager
def open_gateway(settings: Settings, registry: Registry | None = None) -> Iterator[Gateway]:
    """The gateway (contracts, store, pipeline), closed when the block ends whatever happens."""
    gateway = Gateway.open(settings, registry)
    try:
        yield gateway
    finally:
        gateway.close()
