"""What every command gets from the root callback — the frozen Settings — and what it builds from them.

The settings are built once, in :func:`sigma_aetl.cli.app.root`, and travel in ``ctx.obj``; no command
reads the environment itself.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import typer

from sigma_aetl.cli.render import stderr_console
from sigma_aetl.contracts import immutability
from sigma_aetl.contracts.loader import load_registry
from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core.contract import Contract
from sigma_aetl.errors import ContractError
from sigma_aetl.ingest.gateway import Gateway
from sigma_aetl.settings import Settings
from sigma_aetl.stores import Store, open_store


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


@contextmanager
def open_reader(settings: Settings) -> Iterator[Store]:
    """The store opened read-only, for the commands that only read (``stats``, ``failures``): no writer
    process, nothing created. The contracts are not needed to read, so a broken contract or an edited
    release only warns (see :func:`warn_about_contracts`): an operator must be able to read failures exactly
    then."""
    warn_about_contracts(settings)
    store = open_store(settings.store_url, read_only=True)
    try:
        yield store
    finally:
        store.close()


def warn_about_contracts(settings: Settings) -> None:
    """Warn on stderr if the contracts do not load, or released versions no longer match the lock."""
    try:
        warn_about_lock(load_contracts(settings))
    except ContractError as exc:
        _warn(f"the contracts do not load, so serve and ingest will refuse to start: {exc}")


def warn_about_lock(registry: Registry) -> None:
    """Warn on stderr about every released version that no longer matches the lock; refuse nothing."""
    violations = immutability.verify(registry)
    if violations:
        _warn(immutability.report(registry, violations))


def _warn(message: str) -> None:
    stderr_console().print(
        f"warning: {message}", style="yellow", markup=False, highlight=False, soft_wrap=True
    )
