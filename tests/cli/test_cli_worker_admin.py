"""``sigma-aetl worker partitions`` and ``worker resume`` against a real health port's admin endpoints."""

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from cli_support import Cli
from kafka_support import free_port
from sigma_aetl.core.alerts import Alert
from sigma_aetl.kafka.admin import Admin
from sigma_aetl.kafka.health import Health, HealthServer
from sigma_aetl.kafka.pauses import Pauses
from sigma_aetl.stores.keys import issue
from sigma_aetl.stores.sqlite.store import SqliteStore

ALERT = Alert(
    alert_id=f"alr_{'b' * 32}",
    kind="invalid_ratio",
    contract="shipment@1",
    partition="events:0",
    source="kafka",
    value=0.9,
    threshold=0.5,
    window_events=200,
    action="paused",
    raised_at=datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
    process="w:1",
)


@pytest.fixture
def store(cli: Cli) -> Iterator[SqliteStore]:
    """The CLI's store, holding an admin key and a read key."""
    opened = SqliteStore(cli.db, writer="inline")
    yield opened
    opened.close()


@pytest.fixture
def pauses() -> Pauses:
    """Partition 0 of ``events`` paused by an alert, partition 1 consumed."""
    found = Pauses()
    found.assigned({("events", 0), ("events", 1)})
    found.paused(("events", 0), ALERT)
    return found


@pytest.fixture
def url(store: SqliteStore, pauses: Pauses) -> Iterator[str]:
    """A health server whose admin endpoints show ``pauses``; a thread plays the worker, carrying out
    each resume asked."""
    stop = threading.Event()

    def play_worker() -> None:
        while not stop.wait(0.02):
            for where in pauses.take_resumes():
                pauses.resumed(where)

    worker = threading.Thread(target=play_worker, daemon=True)
    worker.start()
    with HealthServer(Health(), "127.0.0.1", 0) as server:
        server.admin = Admin(pauses, store, wait=2)
        yield f"http://127.0.0.1:{server.port}"
    stop.set()
    worker.join(5)


def test_partitions_lists_the_paused_one_with_its_alert(cli: Cli, url: str) -> None:
    """With no key in the store, ``worker partitions --json`` lists both partitions, the paused one with
    its alert; the table names it too."""
    result = cli.invoke("worker", "partitions", "--url", url, "--json")
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)["partitions"]
    assert [(item["partition"], item["paused"], item["alert_id"]) for item in listed] == [
        (0, True, ALERT.alert_id),
        (1, False, None),
    ]
    table = cli.invoke("worker", "partitions", "--url", url, env={"COLUMNS": "200"})
    assert "events:0" in table.stdout
    assert "paused" in table.stdout


def test_resume_needs_an_admin_key_once_keys_exist(
    cli: Cli, url: str, store: SqliteStore, pauses: Pauses
) -> None:
    """Once keys exist: no key exits 1 with the worker's reason, a read key too; SIGMA_AETL_API_KEY with an
    admin key resumes the partition."""
    reader, operator = issue(store, "reader", ["read"]), issue(store, "operator", ["admin"])
    refused = cli.invoke("worker", "resume", "events", "0", "--url", url)
    assert refused.exit_code == 1
    assert "401" in refused.stderr
    forbidden = cli.invoke("worker", "resume", "events", "0", "--url", url, "--api-key", reader.token)
    assert forbidden.exit_code == 1
    assert "scope admin" in forbidden.stderr
    done = cli.invoke(
        "worker", "resume", "events", "0", "--url", url, env={"SIGMA_AETL_API_KEY": operator.token}
    )
    assert done.exit_code == 0, done.output
    assert "resumed events:0" in done.stdout
    assert not pauses.is_paused(("events", 0))


def test_resuming_a_partition_that_is_not_paused_says_so(cli: Cli, url: str) -> None:
    """Partition 1 is consumed: resuming it exits 1 with the worker's 409 detail."""
    result = cli.invoke("worker", "resume", "events", "1", "--url", url)
    assert result.exit_code == 1
    assert "not paused" in result.stderr


def test_no_worker_at_the_url_exits_2(cli: Cli) -> None:
    """A URL nothing listens on is exit 2, saying the worker could not be reached."""
    result = cli.invoke("worker", "partitions", "--url", f"http://127.0.0.1:{free_port()}")
    assert result.exit_code == 2
    assert "no answer from the worker" in result.stderr
