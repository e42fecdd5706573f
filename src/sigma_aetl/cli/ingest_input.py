"""What ``ingest`` reads and how it stops: the input (a file, or ``-`` for standard input), the refusal of
an input that is not text, and Ctrl-C.
"""

import shlex
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import BinaryIO

from sigma_aetl.cli.errors import fail
from sigma_aetl.cli.params import ContractRef
from sigma_aetl.cli.render import stderr_console
from sigma_aetl.ingest.files import HEAD_BYTES, FileSource
from sigma_aetl.ingest.sniff import not_text

STDIN = "-"
"""The file name that means standard input."""


def is_stdin(path: Path) -> bool:
    """Whether ``path`` is ``-``, standard input."""
    return str(path) == STDIN


def describe(path: Path) -> str:
    """The input as a person would name it."""
    return "standard input" if is_stdin(path) else str(path)


@contextmanager
def opened(path: Path) -> Iterator[tuple[BinaryIO, Path | None]]:
    """The input's byte stream and its absolute path (None for standard input, which stays open after).

    Records keep the absolute path: a relative one means nothing once the shell that ran this is gone.
    """
    if is_stdin(path):
        yield sys.stdin.buffer, None
        return
    if not path.exists():
        fail(f"{path}: no such file")
    if path.is_dir():
        fail(f"{path}: is a directory, not a JSON Lines file")
    with path.open("rb") as stream:
        yield stream, path.resolve()


def refuse_unless_text(source: FileSource, path: Path, ref: ContractRef, *, force: bool) -> None:
    """Refuse (exit 2) an input whose first bytes are clearly not JSON Lines text; with ``force``, warn."""
    head = source.head()
    found = not_text(head, whole=len(head) < HEAD_BYTES)
    if found is None:
        return
    what = f"{describe(path)} does not look like JSON Lines text: it looks like {found.looks_like} "
    what += f"({found.evidence})."
    if force:
        message = f"warning: {what} Ingesting it anyway (--force): every line is judged as usual."
        stderr_console().print(message, style="yellow", markup=False, highlight=False, soft_wrap=True)
        return
    advice = (
        " To ingest it as it is, pass --force (each line is then judged as usual, and the lines that are not "
        "valid events are stored as failure records)."
    )
    if found.decompress is not None:
        command = f"sigma-aetl ingest {ref} -"
        feed = (
            f"... | {found.decompress}" if is_stdin(path) else f"{found.decompress} {shlex.quote(str(path))}"
        )
        advice += f" If it holds JSON Lines, turn it into text on the way in: {feed} | {command}"
    fail(what + advice)


@contextmanager
def stop_on_interrupt(source: FileSource) -> Iterator[None]:
    """While the block runs, the first SIGINT (Ctrl-C) asks ``source`` to stop after the batch in flight;
    a second one raises KeyboardInterrupt as usual, to stop at once. The old handler comes back after.

    The handler only sets a flag and swaps itself out: printing from it could re-enter a write to stdout
    the signal interrupted. Signal handlers belong to the main thread; elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(_signum: int, _frame: FrameType | None) -> None:
        source.stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
