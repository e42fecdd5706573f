"""SQLite files made before request headers were stored once: they open, and read exactly as before."""

import dataclasses
import sqlite3
from pathlib import Path

from sigma_aetl.core import serial
from sigma_aetl.core.records import written_json
from sigma_aetl.stores.sqlite.store import SqliteStore
from store_support import failure

HEADERS = {"user-agent": "old/" + "o" * 2000}


def _old_store(path: Path) -> dict[str, object]:
    """A store file in the layout before: no request_headers table, the headers inline in the document."""
    old = dataclasses.replace(failure("k1"), source={"kind": "http", "headers": HEADERS, "index": 0})
    SqliteStore(path, writer="inline").close()
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE request_headers")
        conn.execute(
            "INSERT INTO failures (failure_id, contract_ref, contract, version, root_cause, stage, "
            "received_at, doc) VALUES (?, 'shipment@1', 'shipment', 1, 'missing_field', 'schema', 0, ?)",
            (old.failure_id, written_json(old)),
        )
    return serial.jsonable(old.source)  # type: ignore[no-any-return]


def test_an_old_file_reads_its_inline_headers_read_only_and_after_opening(tmp_path: Path) -> None:
    """Read-only, and then opened with a writer (which adds the table), an old failure reads as stored."""
    path = tmp_path / "old.db"
    source = _old_store(path)
    reader = SqliteStore(path, writer="none")
    found = reader.get_failure(failure("k1").failure_id)
    reader.close()
    assert found is not None
    assert found.source == source
    store = SqliteStore(path, writer="inline")
    try:
        again = store.get_failure(failure("k1").failure_id)
        assert again is not None
        assert again.source == source
        new = dataclasses.replace(failure("k2"), source={"kind": "http", "headers": HEADERS, "index": 1})
        store.write([], [new])
        assert store.get_failure(new.failure_id) == new
    finally:
        store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM request_headers").fetchone()[0] == 1
