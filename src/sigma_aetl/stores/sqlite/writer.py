"""The SQLite writer process: the store's writes run on a second core, outside the caller's GIL.

SQLite's own work (b-tree inserts, page cache, WAL, fsync) is about half of what storing an event costs.
Done in a thread, it competes for the GIL with the code that validates the next events: every row bound
waits for the interpreter's switch interval (5 ms), and measured here a writer thread stored ~2,400 rows/s
beside a busy main thread. In a process of its own it runs at full speed while the caller goes on.

The caller sends :class:`~sigma_aetl.stores.sqlite.rows.Rows` (plain tuples) over a pipe; the writer applies
them in one ``BEGIN IMMEDIATE`` transaction and answers with what already existed, or with the SQLite error.
A write is answered only after its COMMIT returns, so "answered" still means "durably stored". The process
is a Python subprocess and ignores SIGINT and SIGTERM: stopping is the parent's to decide.

The concurrency contract (enforced here, in :class:`WriterProcess`)
    - **One owner per store drives the writer.** In the gateway that is the group committer
      (:mod:`sigma_aetl.ingest.groupcommit`), which every HTTP write goes through; in the CLI's ``ingest``
      and in the Kafka worker, the one thread that drives the pipeline. Nobody else writes.
    - **From any thread, one at a time.** The owner may submit from one thread and take the result in
      another (the committer decides small groups on the event loop and large ones in its worker thread),
      as long as something orders the two (an await, a future, a join).
    - **One write in flight.** ``SqliteStore.submit()`` starts a write; its ``result()`` must come before
      the next submit (the pipeline's identity-conflict write follows its batch's result). A second submit
      while one is in flight raises :class:`~sigma_aetl.errors.StoreError` at once, from any thread: it
      neither waits (that would stall the event loop, or deadlock the thread holding the first write) nor
      puts a second write on the pipe. ``close()`` waits for the write in flight: call it after the last
      ``result()``.
    - **If the writer dies** (killed, out of memory), the write in flight raises
      :class:`~sigma_aetl.errors.StoreUnavailable` from ``result()``: nothing is claimed as stored, and
      retrying is safe (it committed before the death, and the retry finds its ids stored, or it did not).
      The next submit starts a new writer process.
    - **If the parent dies**, the writer commits nothing more: see below.

When the parent dies
    - *Between writes*, its end of the pipe closes: the writer's loop reads EOF, and the process exits.
    - *During a write*, the writer checks, immediately before the COMMIT, that its parent is still there:
      ``os.getppid()`` is still the pid that started it (a dead parent's children are re-parented) and the
      parent's end of the pipe is not hung up (polled, without waiting). If not, it rolls back and exits.
      That is one ``getppid`` and one ``poll`` per transaction, not per event. A writer that was waiting for
      SQLite's lock (up to the busy timeout) meets the same check once it has the lock. (A parent alive but
      done with it, a store dropped with a write unread, also hangs up its end: no one would read that
      answer either.) Each check covers the other's blind spot: a child the parent forked (without exec)
      keeps the pipe open after the parent's death, and a dying parent's pipe hangs up a moment before its
      children are re-parented.
    - *Belt, on Linux*: a writer started from the main thread asks the kernel (``PR_SET_PDEATHSIG``) to
      SIGKILL it when its parent dies, so a write is cut wherever it is and SQLite rolls it back. Only from
      the main thread, because Linux sends that signal when the *thread* that started the child ends: a
      writer replaced from a pool thread would die with that thread. Other platforms skip it.
    - *The window that remains*: a parent that dies after the check passed, while the COMMIT runs (its WAL
      write and, with ``synchronous=FULL``, its fsync: milliseconds). That commit lands; with the belt, only
      if its commit frame was already written when the SIGKILL arrived. No check in the writer can close
      it: the parent's death and the commit are two events in two processes that nothing orders. What it
      costs: a batch stored that no one heard about. Ids are deterministic, so whoever retries (a Kafka
      redelivery, an HTTP client) writes nothing new and is told those events are duplicates.

A test hook, inert in production
    With ``SIGMA_AETL_TEST_WRITER_HOLD`` (:data:`HOLD_ENV`) set to the path of a FIFO when the writer starts,
    it opens that FIFO for reading just before each COMMIT (the rows applied, not committed) and reads it
    to EOF, before the parent check. A test opens the FIFO for writing, which succeeds only once the writer
    holds there, acts (kills the parent, say), then closes it to let the writer go on. Unset, the writer
    reads the variable once at start and its transactions run exactly as they would without the hook.
"""

import contextlib
import ctypes
import os
import select
import signal
import sqlite3
import subprocess
import sys
import threading
import weakref
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, Literal

from sigma_aetl.errors import StoreError, StoreUnavailable
from sigma_aetl.stores.sqlite.apply import apply
from sigma_aetl.stores.sqlite.rows import Existing, Rows

HOLD_ENV = "SIGMA_AETL_TEST_WRITER_HOLD"
"""Tests only: the FIFO the writer waits on just before each COMMIT (see the module docstring)."""

_Answer = tuple[Literal["ok", "unavailable", "error"], Existing | str | None]
_START_TIMEOUT = 60.0
_ENTRY = "import sys; from sigma_aetl.stores.sqlite.writer import main; main(sys.argv)"
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


class WriterProcess:
    """A process that owns the store's write connection; one write in flight at a time."""

    def __init__(self, path: str, pragmas: list[str], timeout: float) -> None:
        to_child, from_parent = os.pipe()
        to_parent, from_child = os.pipe()
        # A plain subprocess, not multiprocessing's spawn, which would re-run the caller's main
        # script in the child (a script without an `if __name__ == "__main__"` guard would start again).
        self._process = subprocess.Popen(
            [sys.executable, "-c", _ENTRY, str(to_child), str(from_child), str(os.getpid()), _belt()],
            pass_fds=(to_child, from_child),
            env={**os.environ, "PYTHONPATH": os.pathsep.join(entry for entry in sys.path if entry)},
            stdin=subprocess.DEVNULL,
        )
        os.close(to_child)
        os.close(from_child)
        self._pipe = _Duplex(Connection(from_parent, readable=False), Connection(to_parent, writable=False))
        self._busy = threading.Lock()  # held from send() to receive(): the write in flight
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

    @property
    def in_flight(self) -> bool:
        """Whether a write was sent and its answer not yet received."""
        return self._busy.locked()

    def send(self, rows: Rows) -> None:
        """Start a write; :meth:`receive` must follow before the next send, which raises until it has."""
        if not self._busy.acquire(blocking=False):
            raise StoreError(
                "SQLite: a write is already in flight on this store's writer process; call result() on it "
                "before the next submit (one owner per store: see sigma_aetl.stores.sqlite.writer)"
            )
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


def _belt() -> str:
    """Whether the child may tie its life to the thread starting it ("1": the main thread, which lives as
    long as the process; a pool thread may end while the process goes on)."""
    return "1" if threading.current_thread() is threading.main_thread() else "0"


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


class _Parent:
    """The process that started this writer, as the writer can see it without waiting."""

    def __init__(self, pid: int, pipe_from_it: int) -> None:
        self._pid = pid
        self._hangup = select.poll()
        # No events asked for: poll still reports POLLHUP (every writer of the pipe closed), and never
        # reports a message waiting in the pipe (the stop signal, say) as the parent's death.
        self._hangup.register(pipe_from_it, 0)

    def alive(self) -> bool:
        """Whether it is still this process's parent and its end of the pipe is still open."""
        return os.getppid() == self._pid and not self._hangup.poll(0)


def main(argv: list[str]) -> None:
    """The writer process's entry point; ``argv`` is ``[_, READ_FD, WRITE_FD, PARENT_PID, BELT]``."""
    # Stopping is the parent's to decide: it finishes its last write, then closes the pipe (EOF ends this
    # loop). A Ctrl-C or a SIGTERM sent to the whole process group must not kill that write midway.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if argv[4] == "1":
        _die_with_parent()
    parent = _Parent(int(argv[3]), int(argv[1]))
    if not parent.alive():  # it died before the belt was on
        return
    pipe = _Duplex(Connection(int(argv[2]), readable=False), Connection(int(argv[1]), writable=False))
    try:
        path, pragmas, timeout = pipe.recv()
    except (EOFError, OSError):
        return
    serve(pipe, path, pragmas, timeout, may_commit=_commit_check(parent, os.environ.get(HOLD_ENV)))


def _die_with_parent() -> None:
    """Linux: have the kernel SIGKILL this process when the thread that started it ends. Elsewhere, or
    without prctl, nothing: the check before each COMMIT still holds."""
    if sys.platform != "linux":
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))


def _commit_check(parent: _Parent, hold: str | None) -> Callable[[], bool]:
    """What a transaction asks just before its COMMIT: may it commit (is the parent still there)?"""
    if hold is None:
        return parent.alive

    def held_then_checked() -> bool:
        _hold(hold)
        return parent.alive()

    return held_then_checked


def _hold(fifo: str) -> None:
    """Tests only: wait until a test has opened the FIFO for writing and closed it again."""
    with open(fifo, "rb") as held:
        held.read()


def serve(
    pipe: "_Duplex", path: str, pragmas: list[str], timeout: float, may_commit: Callable[[], bool]
) -> None:
    """The writer's loop: apply each batch of rows in a transaction and answer; stop on None or EOF, or
    when ``may_commit()`` says no (the transaction is rolled back)."""
    try:
        conn = sqlite3.connect(path, timeout=timeout, isolation_level=None)
        for pragma in pragmas:
            conn.execute(pragma)
    except sqlite3.Error as exc:
        _answer(pipe, ("unavailable", str(exc)))
        return
    if _answer(pipe, ("ok", None)):
        _loop(pipe, conn, may_commit)
    conn.close()


def _loop(pipe: "_Duplex", conn: sqlite3.Connection, may_commit: Callable[[], bool]) -> None:
    while True:
        try:
            rows = pipe.recv()
        except (EOFError, OSError):
            return
        if rows is None:
            return
        answer = _write(conn, rows, may_commit)
        if answer is None or not _answer(pipe, answer):
            return


def _answer(pipe: "_Duplex", answer: _Answer) -> bool:
    """Send ``answer``; False if no one is left to read it."""
    try:
        pipe.send(answer)
    except OSError:
        return False
    return True


def _write(conn: sqlite3.Connection, rows: Rows, may_commit: Callable[[], bool]) -> _Answer | None:
    """Apply ``rows`` in one transaction and commit; None if ``may_commit()`` refused (rolled back)."""
    try:
        conn.execute("BEGIN IMMEDIATE")
        existing = apply(conn, rows)
        if not may_commit():
            _rollback(conn)
            return None
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
