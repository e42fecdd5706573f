"""The SQLite writer process: the store's writes run on a second core, outside the caller's GIL.

SQLite's own work (b-tree inserts, page cache, WAL, fsync) is about half of what storing an event costs.
Done in a thread, it competes for the GIL with the code that validates the next events: every row bound
waits for the interpreter's switch interval (5 ms), and measured here a writer thread stored ~2,400 rows/s
beside a busy main thread. In a process of its own it runs at full speed while the caller goes on.

The caller sends :class:`~sigma_aetl.stores.sqlite.rows.Rows` (plain tuples) over a pipe; the writer applies
them in one ``BEGIN IMMEDIATE`` transaction and answers with what already existed, or with the SQLite error.
A write is answered only after its COMMIT returns, so "answered" still means "durably stored". The process
is a Python subprocess, ignores SIGINT and SIGTERM (the parent decides when to stop) and ends when
its pipe closes, which includes the parent's death.
"""

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import weakref
from multiprocessing.connection import Connection
from typing import Any, Literal

from sigma_aetl.errors import StoreError, StoreUnavailable
from sigma_aetl.stores.sqlite.rows import Existing, Rows, apply

_Answer = tuple[Literal["ok", "unavailable", "error"], Existing | str | None]
_START_TIMEOUT = 60.0
_ENTRY = "import sys; from sigma_aetl.stores.sqlite.writer import main; main(sys.argv)"


class WriterProcess:
    """A process that owns the store's write connection; one write in flight at a time."""

    def __init__(self, path: str, pragmas: list[str], timeout: float) -> None:
        to_child, from_parent = os.pipe()
        to_parent, from_child = os.pipe()
        # A plain subprocess, not multiprocessing's spawn, which would re-run the caller's main
        # script in the child (a script without an `if __name__ == "__main__"` guard would start again).
        self._process = subprocess.Popen(
            [sys.executable, "-c", _ENTRY, str(to_child), str(from_child)],
            pass_fds=(to_child, from_child),
            env={**os.environ, "PYTHONPATH": os.pathsep.join(entry for entry in sys.path if entry)},
            stdin=subprocess.DEVNULL,
        )
        os.close(to_child)
        os.close(from_child)
        self._pipe = _Duplex(Connection(from_parent, readable=False), Connection(to_parent, writable=False))
        self._busy = threading.Lock()
        self._broken = False
        # A store dropped without close() still stops its writer (and reaps it) when collected.
        self._stop = weakref.finalize(self, _stop, self._pipe, self._process)
        self._pipe.send((path, pragmas, timeout))
        if not self._pipe.poll(_START_TIMEOUT):
            self.close()
            raise StoreUnavailable("SQLite: the writer process did not start")
        try:
            self._unpack(self._pipe.recv())
        except (EOFError, OSError) as exc:
            self.close()
            raise StoreUnavailable("SQLite: the writer process did not start") from exc

    def alive(self) -> bool:
        """Whether the process is still running (and its pipe still works)."""
        return not self._broken and self._process.poll() is None

    def send(self, rows: Rows) -> None:
        """Start a write; :meth:`receive` must follow (other writers wait until it does)."""
        self._busy.acquire()
        try:
            self._pipe.send(rows)
        except (OSError, ValueError) as exc:
            self._broken = True
            self._busy.release()
            raise StoreUnavailable(f"SQLite: the writer process is gone ({exc})") from exc

    def answer_fileno(self) -> int:
        """The descriptor the answer to the write in flight arrives on (readable once it has)."""
        return self._pipe.fileno()

    def receive(self) -> Existing:
        """Wait for the write :meth:`send` started; raises StoreError if it did not commit."""
        try:
            answer: _Answer = self._pipe.recv()
        except (EOFError, OSError) as exc:
            self._broken = True  # its pipe may close a moment before the process can be reaped
            raise StoreUnavailable("SQLite: the writer process is gone") from exc
        finally:
            self._busy.release()
        return self._unpack(answer)

    @staticmethod
    def _unpack(answer: _Answer) -> Existing:
        kind, value = answer
        if kind == "ok":
            return value if isinstance(value, tuple) else ({}, set())
        error = StoreUnavailable if kind == "unavailable" else StoreError
        raise error(f"SQLite: {value}")

    def close(self) -> None:
        """Finish the write in flight, then stop the process."""
        with self._busy:
            self._stop()


def _stop(pipe: "_Duplex", process: "subprocess.Popen[bytes]") -> None:
    with contextlib.suppress(OSError, ValueError):  # already gone: nothing to stop
        pipe.send(None)
    pipe.close()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class _Duplex:
    """Two one-way pipes as one connection."""

    def __init__(self, out: Connection, into: Connection) -> None:
        self._out = out
        self._in = into

    def send(self, value: object) -> None:
        self._out.send(value)

    def recv(self) -> Any:
        return self._in.recv()

    def poll(self, timeout: float) -> bool:
        return self._in.poll(timeout)

    def fileno(self) -> int:
        return self._in.fileno()

    def close(self) -> None:
        self._out.close()
        self._in.close()


def main(argv: list[str]) -> None:
    """The writer process's entry point; ``argv`` is ``[_, READ_FD, WRITE_FD]``."""
    # Stopping is the parent's to decide: it finishes its last write, then closes the pipe (EOF ends this
    # loop). A Ctrl-C or a SIGTERM sent to the whole process group must not kill that write midway.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    pipe = _Duplex(Connection(int(argv[2]), readable=False), Connection(int(argv[1]), writable=False))
    try:
        path, pragmas, timeout = pipe.recv()
    except (EOFError, OSError):
        return
    serve(pipe, path, pragmas, timeout)


def serve(pipe: "_Duplex", path: str, pragmas: list[str], timeout: float) -> None:
    """The writer's loop: apply each batch of rows in a transaction and answer; stop on None or EOF."""
    try:
        conn = sqlite3.connect(path, timeout=timeout, isolation_level=None)
        for pragma in pragmas:
            conn.execute(pragma)
    except sqlite3.Error as exc:
        pipe.send(("unavailable", str(exc)))
        return
    pipe.send(("ok", None))
    while True:
        try:
            rows = pipe.recv()
        except (EOFError, OSError):
            break
        if rows is None:
            break
        pipe.send(_write(conn, rows))
    conn.close()


def _write(conn: sqlite3.Connection, rows: Rows) -> _Answer:
    try:
        conn.execute("BEGIN IMMEDIATE")
        existing = apply(conn, rows)
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        _rollback(conn)
        kind: Literal["unavailable", "error"] = (
            "unavailable" if isinstance(exc, sqlite3.OperationalError) else "error"
        )
        return kind, str(exc)
    return "ok", existing


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:  # a failed COMMIT leaves the transaction open; never leave it dangling
        with contextlib.suppress(sqlite3.Error):  # the connection is unusable; the next write reports it
            conn.execute("ROLLBACK")
