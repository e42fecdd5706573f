"""What every command gets — the frozen Settings — and what it builds from them.

The global options (``--store``, ``--contracts``) may be given before the command, after it, or both: each
one given is remembered in the context's ``meta`` (shared by the root's context and the command's) as it
is parsed, the command's after the root's, so the value nearest the command wins. :func:`settings_of`
then builds the settings once, from the environment overridden by those options; no command reads the
environment itself.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from pydantic import ValidationError

from sigma_aetl.cli.errors import describe, fail
from sigma_aetl.cli.params import GLOBAL_SETTINGS
from sigma_aetl.cli.render import stderr_console
from sigma_aetl.contracts import immutability
from sigma_aetl.contracts.loader import load_registry
from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core.contract import Contract
from sigma_aetl.errors import ContractError, ContractsDirectoryMissing
from sigma_aetl.ingest.gateway import Gateway
from sigma_aetl.settings import Settings
from sigma_aetl.stores import Store, open_store

_OPTIONS = "sigma_aetl.global_options"
_SETTINGS = "sigma_aetl.settings"


def remember_option(ctx: typer.Context, name: str, value: Any) -> None:
    """Record a global option given on the command line (``name`` in :data:`GLOBAL_SETTINGS`); a later
    one (nearer the command) replaces an earlier one."""
    if value is not None:
        ctx.meta.setdefault(_OPTIONS, {})[name] = value


def settings_of(ctx: typer.Context) -> Settings:
    """The settings: the environment, overridden by the global options given; built once per run."""
    settings = ctx.meta.get(_SETTINGS)
    if not isinstance(settings, Settings):
        options: dict[str, Any] = ctx.meta.get(_OPTIONS, {})
        settings = build_settings(**{GLOBAL_SETTINGS[name]: value for name, value in options.items()})
        ctx.meta[_SETTINGS] = settings
    return settings


def build_settings(**overrides: Any) -> Settings:
    """Settings from the environment, overridden by ``overrides``; invalid ones are a usage error."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        fail(f"invalid settings (command-line options or SIGMA_AETL_* variables): {problems}")


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
    except (ContractError, ContractsDirectoryMissing) as exc:
        _warn(f"the contracts do not load, so serve and ingest will refuse to start: {describe(exc)}")


def warn_about_lock(registry: Registry) -> None:
    """Warn on stderr about every released version that no longer matches the lock; refuse nothing."""
    violations = immutability.verify(registry)
    if violations:
        _warn(immutability.report(registry, violations))


def _warn(message: str) -> None:
    stderr_console().print(
        f"warning: {message}", style="yellow", markup=False, highlight=False, soft_wrap=True
    )
