"""Exit codes, and the translation of operational errors into a one-line message and exit code 2.

Bad *data* is never an error here: an ingested event that fails its contract is stored data, and
``validate`` reports a FAILED decision with exit code 1. Exit code 2 means the command could not do its
job: a missing file, a missing or broken contracts directory, an unknown contract, a store that failed.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer

from sigma_aetl.cli.render import stderr_console
from sigma_aetl.errors import ContractsDirectoryMissing, SigmaError
from sigma_aetl.settings import Settings

EXIT_OK = 0
EXIT_FAILED = 1
"""``validate``: the payload failed its contract; ``failures show``: no such failure; ``keys revoke``: no
such key."""
EXIT_OPERATIONAL = 2
"""The command could not run (the same code click uses for a usage error)."""
EXIT_INTERRUPTED = 130
"""``ingest``: stopped by Ctrl-C (SIGINT) after storing the batch in flight (128 + the signal's number)."""
CONTRACTS_HINT = (
    "point at one with --contracts DIR or SIGMA_AETL_CONTRACTS_DIR, "
    "or create the example contracts here with `sigma-aetl init`"
)


def fail(message: str, code: int = EXIT_OPERATIONAL) -> NoReturn:
    """Print ``error: message`` on stderr, on one line, and exit with ``code``."""
    stderr_console().print(f"error: {message}", style="red", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def operational_errors(settings: Settings) -> Iterator[None]:
    """Turn SIGMA-AETL and OS errors into ``fail()``: a clear message, exit code 2, no traceback.

    The store URL's password is masked wherever a message quotes the URL.
    """
    try:
        yield
    except SigmaError as exc:
        fail(_redacted(describe(exc), settings))
    except OSError as exc:
        fail(_redacted(_describe_os_error(exc), settings))


def describe(exc: SigmaError) -> str:
    """The error's message, and for a missing contracts directory how to point at one or create one."""
    if isinstance(exc, ContractsDirectoryMissing):
        return f"{exc}: {CONTRACTS_HINT}"
    return str(exc)


def _redacted(message: str, settings: Settings) -> str:
    return message.replace(settings.store_url, settings.store_url_redacted)


def _describe_os_error(exc: OSError) -> str:
    if exc.filename is not None:
        return f"{exc.filename}: {exc.strerror or exc}"
    return str(exc)
