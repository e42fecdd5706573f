"""The SQLite writer process: writes on a second core, errors translated, never outliving its store."""

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from test_sqlite import accepted, count, failure

from sigma_aetl.errors import StoreUnavailable
from sigma_aetl.stores.sqlite.store import SqliteStore


def writer_pid(store: SqliteStore) -> int:
    """The pid of the store's writer process."""
    assert store._process is not None
    return store._process._process.pid


def gone(pid: int, within: float = 10.0) -> bool:
    """Whether process ``pid`` has exited (and been reaped) within ``within`` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def writer_store(tmp_path: Path) -> SqliteStore:
    """A store opened from a URL, as every face opens it: writes go through the writer process."""
    return SqliteStore.from_url(f"sqlite:///{tmp_path}/w.db")


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
    """close() ends the writer process."""
    pid = writer_pid(writer_store)
    writer_store.close()
    assert gone(pid)


def test_signals_to_the_group_do_not_stop_a_write(writer_store: SqliteStore) -> None:
    """SIGINT and SIGTERM sent to the whole group (Ctrl-C, a service stop) leave the writer running."""
    pid = writer_pid(writer_store)
    try:
        os.kill(pid, signal.SIGINT)
        os.kill(pid, signal.SIGTERM)
        time.sleep(0.2)
        assert writer_store.write([accepted("A")], []).new_records == {accepted("A").record_id}
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
            from test_sqlite import accepted
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


def test_a_writer_dying_mid_write_fails_that_write_as_unavailable(tmp_path: Path) -> None:
    """A write whose writer dies before answering is StoreUnavailable (safe to retry); the retry lands."""
    store = SqliteStore(tmp_path / "m.db", timeout=10, writer="process")
    blocker = sqlite3.connect(tmp_path / "m.db", isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")  # the writer will wait for this lock, mid-write
        pending = store.submit([accepted("A")], [])
        time.sleep(0.3)
        os.kill(writer_pid(store), signal.SIGKILL)
        with pytest.raises(StoreUnavailable, match="gone"):
            pending.result()
        blocker.execute("ROLLBACK")
        assert store.write([accepted("A")], []).new_records == {accepted("A").record_id}
    finally:
        blocker.close()
        store.close()
