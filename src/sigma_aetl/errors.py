"""Exceptions raised by SIGMA-AETL.

Bad *data* is never an exception: the validator returns a decision for any input bytes. Exceptions are for
operational problems — a broken contract file, a store that cannot be reached, a bad configuration::

    SigmaError
    ├── ConfigError              settings that cannot work (bad store URL, missing contracts directory)
    │   └── ContractsDirectoryMissing   the contracts directory does not exist
    ├── ContractError            a contract cannot be loaded or addressed
    │   ├── ContractLoadError    a contract file is broken (import error, wrong shape, duplicate version)
    │   ├── ContractNotFound     an operator asked for a contract@version that is not registered
    │   └── ContractLockError    a released version was edited or deleted (it no longer matches the lock)
    ├── InvalidCursor            a records cursor that is malformed, from another store, or for other filters
    ├── KafkaClientError         the Kafka client failed: a fatal client error, or a refused operation
    ├── ReplayRefused            a replay cannot start: its target is unknown, a draft, or an edited release
    └── StoreError               the store failed; the call's outcome is unknown, but retrying it is safe
        └── StoreUnavailable     the store cannot be reached right now; retrying later is safe

A failed write may have stored part of its batch (SQLite rolls back; MongoDB writes without transactions).
Because every id is deterministic and unique, retrying the whole batch stores the rest and nothing twice.

Library exceptions (sqlite3, pymongo, ...) are translated at the store boundary and never reach the core.
"""


class SigmaError(Exception):
    """Base class of every error raised by SIGMA-AETL."""


class ConfigError(SigmaError):
    """The configuration cannot work."""


class ContractsDirectoryMissing(ConfigError):
    """The contracts directory does not exist (the faces say how to point at one, or create one)."""


class ContractError(SigmaError):
    """A contract cannot be loaded or addressed."""


class ContractLoadError(ContractError):
    """A contract file is broken."""


class ContractNotFound(ContractError):
    """An operator asked for a contract@version that is not registered."""


class ContractLockError(ContractError):
    """A released contract version no longer matches its fingerprint in the lock file; the gateway refuses
    to start."""


class InvalidCursor(SigmaError):
    """A records cursor the store cannot resume from: malformed, issued by another kind of store, or issued
    for other filters. The request is wrong, not the store: nothing is retried."""


class ReplayRefused(SigmaError):
    """A replay cannot start: its target version is not registered, is a draft (without allow_draft), or
    was edited since it was released. The request is wrong: nothing was written."""


class KafkaClientError(SigmaError):
    """The Kafka client failed: a fatal client error, or an operation the brokers refused."""


class StoreError(SigmaError):
    """The store failed; retrying the same call is safe (ids are deterministic and unique)."""


class StoreUnavailable(StoreError):
    """The store cannot be reached right now; retrying later is safe."""
