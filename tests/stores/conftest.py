"""Store fixtures: one ``store`` fixture over every backend, and a real MongoDB-wire server for MongoDB.

The MongoDB side runs against ``nx-27017`` (PyPI, in the dev extra): a server speaking the MongoDB wire
protocol on SQLite. One server per session on a free loopback port, a fresh database per test.
"""

import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient
from pymongo.database import Database

from sigma_aetl.core.canonical import canonical_bytes, sha256_hex
from sigma_aetl.core.decision import FieldError
from sigma_aetl.core.ids import IdentityKind, SourceIdentity, failure_id, raw_identity, record_id
from sigma_aetl.core.records import AcceptedRecord, FailureRecord, RawPayload
from sigma_aetl.core.taxonomy import STAGE_OF, RootCause
from sigma_aetl.stores import Store, open_store
from sigma_aetl.stores.mongo import MongoStore

STORES = ["sqlite", "mongodb"]
T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
STARTUP_TIMEOUT = 20.0

RecordFactory = Callable[..., AcceptedRecord]
FailureFactory = Callable[..., FailureRecord]


@dataclass
class NxServer:
    """A running nx-27017 process and the URL that reaches it."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def stop(self) -> None:
        """Terminate the process (kill it if it lingers) and reap it."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def _nx_binary() -> str:
    found = shutil.which("nx-27017", path=str(Path(sys.executable).parent)) or shutil.which("nx-27017")
    if found is None:
        pytest.fail(
            "nx-27017 is not installed: run scripts/bootstrap (it is in the dev extra)", pytrace=False
        )
    return found


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_nx(workdir: Path) -> NxServer:
    """Start nx-27017 with in-memory storage on a free port; return once it accepts connections."""
    port = free_port()
    log = workdir / "nx-27017.out"
    command = [_nx_binary(), "--db", "memory", "--host", "127.0.0.1", "-p", str(port)]
    command += ["--log-file", str(workdir / "nx-27017.log"), "--pid-file", str(workdir / "nx-27017.pid")]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    server = NxServer(process, f"mongodb://127.0.0.1:{port}", log)
    _wait_until_listening(server, port)
    return server


def _wait_until_listening(server: NxServer, port: int) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"nx-27017 exited ({server.process.returncode}): {server.log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    server.stop()
    pytest.fail(f"nx-27017 did not accept connections within {STARTUP_TIMEOUT}s: {server.log.read_text()}")


@pytest.fixture(scope="session")
def nx_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NxServer]:
    """One nx-27017 server for the whole session, stopped at its end."""
    server = start_nx(tmp_path_factory.mktemp("nx-27017"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def nx_url(nx_server: NxServer) -> str:
    """The session server's URL, without a database: ``mongodb://127.0.0.1:PORT``."""
    return nx_server.url


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[[], NxServer]]:
    """Start a private nx-27017 server for one test (one the test may stop); stopped afterwards."""
    started: list[NxServer] = []

    def start() -> NxServer:
        started.append(start_nx(tmp_path))
        return started[-1]

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def dead_url() -> str:
    """A MongoDB URL on a loopback port nobody listens on, with a short server selection timeout."""
    return f"mongodb://127.0.0.1:{free_port()}/sigma?serverSelectionTimeoutMS=200"


@pytest.fixture(scope="session")
def mongo_client(nx_server: NxServer) -> Iterator[MongoClient[dict[str, Any]]]:
    """A plain pymongo client on the session's server, for looking behind the store (aware datetimes)."""
    client: MongoClient[dict[str, Any]] = MongoClient(
        nx_server.url, serverSelectionTimeoutMS=5000, tz_aware=True
    )
    yield client
    client.close()


@pytest.fixture
def mongo_db_name() -> str:
    """A database name no other test uses."""
    return f"sigma_{uuid.uuid4().hex[:16]}"


@pytest.fixture
def mongo_db(mongo_client: MongoClient[dict[str, Any]], mongo_db_name: str) -> Database[dict[str, Any]]:
    """The test's database through the plain client, to look at collections by their documented names."""
    return mongo_client[mongo_db_name]


@pytest.fixture
def mongo_url(
    nx_server: NxServer, mongo_client: MongoClient[dict[str, Any]], mongo_db_name: str
) -> Iterator[str]:
    """The URL of a fresh database on the session's server, dropped afterwards."""
    yield f"{nx_server.url}/{mongo_db_name}?serverSelectionTimeoutMS=5000"
    mongo_client.drop_database(mongo_db_name)


@pytest.fixture
def mongo_store(mongo_url: str) -> Iterator[MongoStore]:
    """A MongoDB store on a fresh database, closed afterwards."""
    opened = MongoStore(mongo_url)
    yield opened
    opened.close()


@pytest.fixture(params=STORES)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a fresh store of each kind: SQLite in a temporary file, MongoDB in a new database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/store.db"
    url: str = request.getfixturevalue("mongo_url")
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A fresh, empty store of each kind (see ``store_url``), opened by URL."""
    opened = open_store(store_url)
    yield opened
    opened.close()


@pytest.fixture
def make_record() -> RecordFactory:
    """Build an accepted record; its id comes from the contract and ``shipment_id``, as shipment@1's does."""

    def make(
        shipment_id: str = "SHIP-1",
        *,
        contract: str = "shipment",
        version: int = 1,
        data: dict[str, Any] | None = None,
        received_at: datetime = T0,
        source: dict[str, Any] | None = None,
        raw: bytes | None = None,
    ) -> AcceptedRecord:
        data = {"shipment_id": shipment_id, "weight_kg": 3.5, **(data or {})}
        return AcceptedRecord(
            record_id=record_id(contract, version, [shipment_id]),
            contract=contract,
            version=version,
            fingerprint=f"sha256:{contract}{version}",
            data=data,
            content_hash=sha256_hex(canonical_bytes(data)),
            raw=RawPayload.of(canonical_bytes(data) if raw is None else raw),
            received_at=received_at,
            source={"kind": "test"} if source is None else source,
        )

    return make


@pytest.fixture
def make_failure() -> FailureFactory:
    """Build a failure record; its id comes from ``contract_ref`` and a producer key (``identified_by`` key),
    Kafka coordinates made of the key (``transport``) or the raw bytes (``raw``: the key is then unused)."""

    def make(
        key: str = "k1",
        *,
        contract_ref: str = "shipment@1",
        routed: bool = True,
        root_cause: RootCause = RootCause.MISSING_FIELD,
        paths: tuple[str, ...] = ("priority",),
        received_at: datetime = T0,
        source: dict[str, Any] | None = None,
        raw: bytes = b'{"shipment_id": "SHIP-1"}',
        conflicts_with: str | None = None,
        identified_by: IdentityKind | None = "key",
    ) -> FailureRecord:
        name, _, version = contract_ref.partition("@")
        errors = tuple(_error(path, root_cause) for path in paths)
        identity: SourceIdentity = ("key", key)
        if identified_by == "raw":
            identity = raw_identity(raw)
        elif identified_by == "transport":
            identity = ("kafka", "events", "0", key)
        return FailureRecord(
            failure_id=failure_id(name, version, identity),
            contract_ref=contract_ref,
            contract=name if routed else None,
            version=int(version) if routed else None,
            fingerprint=f"sha256:{contract_ref}" if routed else None,
            root_cause=root_cause,
            stage=STAGE_OF[root_cause],
            errors=errors,
            conflicts_with=conflicts_with,
            raw=RawPayload.of(raw),
            received_at=received_at,
            source={"kind": "test"} if source is None else source,
            identified_by=identified_by,
        )

    return make


def _error(path: str, cause: RootCause) -> FieldError:
    return FieldError(
        path=path,
        loc=(path,) if path else (),
        type=cause.value,
        root_cause=cause,
        stage=STAGE_OF[cause],
        message=f"{path or 'payload'}: {cause.value}",
        explanation=f"{path or 'payload'}: {cause.value}.",
    )
