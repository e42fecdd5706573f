"""The SQLite writer process: writes on a second core, errors translated, never outliving its store.

Where a test needs a write caught between its rows and its COMMIT, it uses the writer's test hold
(:data:`~sigma_aetl.stores.sqlite.writer.HOLD_ENV`): a FIFO the writer opens just before each COMMIT. The
test's open of that FIFO succeeds only once the writer is there, and closing it lets the writer go on, so
nothing here waits for a guessed amount of time.
"""

import contextlib
import errno
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sigma_aetl.errors import StoreError, StoreUnavailable
from sigma_aetl.stores.sqlite.store import SqliteStore
from sigma_aetl.stores.sqlite.writer import HOLD_ENV
from store_support import accepted, count, failure

DEADLINE = 30.0  # seconds; every wait below ends on a positive signal long before this


def writer_pid(store: SqliteStore) -> int:
    """The pid of the store's writer process."""
    assert store._process is not None
    return store._process._process.pid


def exited(pid: int) -> bool:
    """Whether process ``pid`` has ended: it no longer exists, or is a zombie its parent has not reaped."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:  # it ended while we looked (kill() says so next time), or there is no /proc
        return False
    return stat.rpartition(")")[2].split()[0] == "Z"


def gone(pid: int, within: float = 10.0) -> bool:
    """Whether process ``pid`` has ended within ``within`` seconds."""
    deadline = time.monotonic() + within
    while not exited(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def hold_fifo(tmp_path: Path) -> Path:
    """A new FIFO for a writer to hold on before its COMMIT."""
    fifo = tmp_path / "hold.fifo"
    os.mkfifo(fifo)
    return fifo


def held(fifo: Path, within: float = DEADLINE) -> int:
    """Wait until a writer holds on ``fifo`` (rows applied, not committed); close the result to release it.

    Opening a FIFO to write without blocking fails (ENXIO) until someone has it open to read: here, a
    writer that has reached its COMMIT.
    """
    deadline = time.monotonic() + within
    while True:
        try:
            return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno != errno.ENXIO:
                raise
            if time.monotonic() >= deadline:
                raise AssertionError(f"no writer reached its COMMIT within {within} s") from exc
        time.sleep(0.01)


def submit_elsewhere(store: SqliteStore, key: str) -> StoreError | None:
    """Submit a write of ``key`` from another thread and return the StoreError it raised, if any; fail if
    the submit waits (anything else it raised, pytest reports from the thread)."""
    raised: list[StoreError | None] = []

    def submit() -> None:
        try:
            store.submit(store.stage([accepted(key)], []))
        except StoreError as exc:
            raised.append(exc)
        else:
            raised.append(None)

    thread = threading.Thread(target=submit, daemon=True)  # daemon: a submit that waits must not hang pytest
    thread.start()
    thread.join(DEADLINE)
    assert raised, f"the submit was still waiting after {DEADLINE} s"
    return raised[0]


def shut(store: SqliteStore) -> None:
    """close() the store; if a failed test left a write unanswered, stop the writer without waiting for it."""
    process = store._process
    if process is not None and process.in_flight:
        process._stop()
    else:
        store.close()


@pytest.fixture
def writer_store(tmp_path: Path) -> SqliteStore:
    """A store opened from a URL, as every face opens it: writes go through the writer process."""
    return SqliteStore.from_url(f"sqlite:///{tmp_path}/w.db")


@pytest.fixture
def held_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SqliteStore:
    """A writer-process store whose first writer holds on ``tmp_path/hold.fifo`` before every COMMIT."""
    monkeypatch.setenv(HOLD_ENV, str(hold_fifo(tmp_path)))
    store = SqliteStore(tmp_path / "h.db", timeout=10, writer="process")
    monkeypatch.delenv(HOLD_ENV)  # the writer read it when it started; one that replaces it must not hold
    return store


def test_writes_go_through_the_process_and_report_like_inline(
    writer_store: SqliteStore, tmp_path: Path
) -> None:
    """The writer process stores rows and reports new and existing ids exactly as an inline write does."""
    try:
        first = writer_store.write([accepted("A")], [failure("F")])
        second = writer_store.write([accepted("A"), accepted("B")], [failure("F")])
    finally:
        writer_store.close()
    assert first.new_records == {accepted("A").record_id}
    assert second.new_records == {accepted("B").record_id}
    assert second.existing_records == {accepted("A").record_id: accepted("A").content_hash}
    assert second.existing_failures == {failure("F").failure_id}
    assert count(tmp_path / "w.db", "records") == 2


def test_close_stops_and_reaps_the_process(writer_store: SqliteStore) -> None:
    """close() ends the writer process and reaps it: it has exited cleanly by the time close() returns."""
    assert writer_store._process is not None
    process = writer_store._process._process
    writer_store.close()
    assert process.returncode == 0


def test_signals_to_the_group_do_not_stop_a_write(writer_store: SqliteStore) -> None:
    """SIGINT and SIGTERM sent to the writer (Ctrl-C, a service stop) leave the same process writing."""
    pid = writer_pid(writer_store)
    try:
        os.kill(pid, signal.SIGINT)
        os.kill(pid, signal.SIGTERM)
        # A signal the writer did not ignore ends it before it can read another message, so an answer
        # from the same process is the proof it outlived both; a replacement would have a new pid.
        assert writer_store.write([accepted("A")], []).new_records == {accepted("A").record_id}
        assert writer_pid(writer_store) == pid
        assert writer_store._process is not None
        assert writer_store._process.alive()
    finally:
        writer_store.close()
    assert gone(pid)


def test_the_writer_ends_with_its_parent(tmp_path: Path) -> None:
    """A parent that dies without closing its store (SIGKILL, os._exit) takes its writer with it."""
    script = textwrap.dedent(
        f"""
        import os, sys
        from pathlib import Path
        from sigma_aetl.stores.sqlite.store import SqliteStore
        store = SqliteStore.from_url("sqlite:///{tmp_path}/p.db")
        print(store._process._process.pid, flush=True)
        os._exit(0)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60, check=True)
    assert gone(int(result.stdout.decode().split()[0]))


def test_a_script_without_a_main_guard_can_open_a_store(tmp_path: Path) -> None:
    """The writer starts as its own program, so a caller's script is never re-run in it (as spawn would)."""
    script = tmp_path / "plain.py"
    script.write_text(
        textwrap.dedent(
            f"""
            from sigma_aetl.stores import open_store
            from store_support import accepted
            store = open_store("sqlite:///{tmp_path}/s.db")
            print(len(store.write([accepted("A")], []).new_records))
            store.close()
            """
        )
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    command = [sys.executable, str(script)]
    result = subprocess.run(command, check=False, capture_output=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode().split() == ["1"]


def test_a_dead_writer_is_replaced_by_the_next_write(writer_store: SqliteStore) -> None:
    """If the writer process dies (killed, out of memory), the next write starts a new one and lands."""
    assert writer_store._process is not None
    dead = writer_store._process._process
    try:
        dead.kill()
        dead.wait(timeout=10)
        assert writer_store.write([accepted("A")], []).new_records == {accepted("A").record_id}
        assert writer_pid(writer_store) != dead.pid
    finally:
        writer_store.close()


def test_a_writer_dying_mid_write_fails_that_write_as_unavailable(
    held_store: SqliteStore, tmp_path: Path
) -> None:
    """A write whose writer dies before its COMMIT is StoreUnavailable and not stored; the retry lands."""
    pending = held_store.submit(held_store.stage([accepted("A")], []))
    release = held(tmp_path / "hold.fifo")
    try:
        os.kill(writer_pid(held_store), signal.SIGKILL)
        with pytest.raises(StoreUnavailable, match="gone"):
            pending.result()
        assert count(tmp_path / "h.db", "records") == 0
        assert held_store.write([accepted("A")], []).new_records == {accepted("A").record_id}
    finally:
        os.close(release)
        held_store.close()


def test_a_second_submit_while_a_write_is_in_flight_is_refused(writer_store: SqliteStore) -> None:
    """A submit before the last write's result() raises StoreError at once, from any thread, and the write
    in flight still lands; after its result() the next submit goes through."""
    try:
        first = writer_store.submit(writer_store.stage([accepted("A")], []))
        refused = submit_elsewhere(writer_store, "B")
        assert isinstance(refused, StoreError)
        assert "in flight" in str(refused)
        assert first.result().new_records == {accepted("A").record_id}
        assert writer_store.submit(writer_store.stage([accepted("B")], [])).result().new_records == {
            accepted("B").record_id
        }
    finally:
        shut(writer_store)


def test_a_submit_after_the_writer_died_with_a_write_unread_is_refused(writer_store: SqliteStore) -> None:
    """A dead writer is not replaced under a write whose result() is still owed: the submit is refused;
    after that result(), the next write starts a new writer and lands."""
    assert writer_store._process is not None
    dead = writer_store._process._process
    try:
        pending = writer_store.submit(writer_store.stage([accepted("A")], []))
        dead.kill()
        dead.wait(timeout=DEADLINE)
        refused = submit_elsewhere(writer_store, "B")
        assert isinstance(refused, StoreError)
        assert "in flight" in str(refused)
        with contextlib.suppress(StoreUnavailable):  # it may have answered before it was killed
            pending.result()
        assert writer_store.write([accepted("B")], []).new_records == {accepted("B").record_id}
        assert writer_pid(writer_store) != dead.pid
    finally:
        shut(writer_store)


PARENT = """
import sys, threading
from sigma_aetl.stores.sqlite.store import SqliteStore
from store_support import accepted

def write():
    store = SqliteStore.from_url(sys.argv[1])
    pending = store.submit(store.stage([accepted("A")], []))
    print(store._process._process.pid, flush=True)  # the write is in the writer's pipe
    pending.result()  # the writer holds it (before its COMMIT, or on the lock) until the test lets it go

threading.Thread(target=write).start() if sys.argv[2] == "thread" else write()
"""


@contextlib.contextmanager
def parent_writing(
    db: Path, start_in: str, hold: Path | None = None
) -> Iterator[tuple["subprocess.Popen[bytes]", int]]:
    """A separate parent process with a write in flight, its writer started from its ``start_in`` thread
    ("main" or "thread") and holding on the FIFO ``hold`` if given: the parent and the writer's pid. The
    parent is killed on the way out, if the test has not killed it."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    if hold is not None:
        env[HOLD_ENV] = str(hold)
    command = [sys.executable, "-c", PARENT, f"sqlite:///{db}", start_in]
    log = db.with_suffix(".log")
    with log.open("wb") as stderr:
        parent = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=stderr)
    try:
        assert parent.stdout is not None
        line = parent.stdout.readline()
        assert line.strip().isdigit(), log.read_text()
        yield parent, int(line)
    finally:
        kill(parent)


def kill(parent: "subprocess.Popen[bytes]") -> None:
    """SIGKILL the parent (unless it is already reaped) and reap it."""
    parent.kill()
    parent.wait(timeout=DEADLINE)
    if parent.stdout is not None:  # not read to EOF: the writer holds its other end too
        parent.stdout.close()


def test_a_writer_whose_parent_dies_mid_write_rolls_back_and_exits(tmp_path: Path) -> None:
    """A write held just before its COMMIT when its parent is SIGKILLed is rolled back, and the writer
    exits (started from a thread, so this is the pre-commit check alone, without Linux's death signal)."""
    with parent_writing(tmp_path / "orphan.db", "thread", hold=hold_fifo(tmp_path)) as (parent, writer):
        release = held(tmp_path / "hold.fifo")
        try:
            kill(parent)
        finally:
            os.close(release)  # the writer goes on to its COMMIT, its parent now dead
    assert gone(writer, within=DEADLINE)
    assert count(tmp_path / "orphan.db", "records") == 0


@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux's")
def test_on_linux_a_writer_dies_with_its_parent_even_mid_write(tmp_path: Path) -> None:
    """On Linux the kernel kills a writer started from the main thread when its parent dies, even while it
    is held before its COMMIT; nothing is committed."""
    with parent_writing(tmp_path / "orphan.db", "main", hold=hold_fifo(tmp_path)) as (parent, writer):
        release = held(tmp_path / "hold.fifo")
        try:
            kill(parent)
            assert gone(writer, within=DEADLINE)  # still held: only the kernel's signal can have ended it
        finally:
            os.close(release)
    assert count(tmp_path / "orphan.db", "records") == 0


def test_a_writer_waiting_for_the_lock_when_its_parent_dies_commits_nothing(tmp_path: Path) -> None:
    """A writer blocked on SQLite's lock as its parent dies rolls back once it gets the lock, and exits."""
    db = tmp_path / "orphan.db"
    SqliteStore(
        db, writer="inline"
    ).close()  # the schema, so that the lock can be taken before the parent starts
    blocker = sqlite3.connect(db, isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")  # the writer cannot commit before the parent is dead
        with parent_writing(db, "thread") as (parent, writer):
            kill(parent)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert gone(writer, within=DEADLINE)
    assert count(db, "records") == 0
