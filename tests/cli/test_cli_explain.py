"""``sigma-aetl failures explain``: a failure's or a class's diagnosis, for a person and as JSON."""

from typing import Any

import pytest

from cli_support import Cli

V2 = b'{"shipment_id": "S-%d", "weight_kg": 3, "destination": "Cork", "service_level": "express"}'
RENAMED = b'{"shipmentId": "S-1", "weight_kg": 3, "destinaton": "Cork", "priority": 1}'


def failure_ids(cli: Cli) -> list[str]:
    """The stored failures' ids, oldest first."""
    page: dict[str, Any] = cli.json("failures", "list")
    return [item["failure_id"] for item in reversed(page["items"])]


def test_explains_a_v2_event_sent_to_v1(cli: Cli) -> None:
    """For a person: the errors with what to change, and that the event passes shipment@2."""
    cli.ingest_stdin(V2 % 1)
    (failure_id,) = failure_ids(cli)
    result = cli.run("failures", "explain", failure_id, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "It passes shipment@2: the producer is sending shipment@2 payloads to shipment@1." in result.stdout
    assert "what to change" in result.stdout
    assert "Send the field: it is required." in result.stdout


def test_json_is_the_diagnosis_and_the_same_twice(cli: Cli) -> None:
    """With --json the diagnosis is printed as JSON, identical on a second run."""
    cli.ingest_stdin(RENAMED)
    (failure_id,) = failure_ids(cli)
    first = cli.run("failures", "explain", failure_id, "--json")
    second = cli.run("failures", "explain", failure_id, "--json")
    assert first.exit_code == 0, first.output
    assert first.stdout == second.stdout
    body = cli.json("failures", "explain", failure_id)
    assert [m["unexpected"] for m in body["near_misses"]] == ["destinaton", "shipmentId"]


def test_all_contracts_widens_what_is_tried(cli: Cli) -> None:
    """--all-contracts judges the payload against every loaded contract, not only shipment's versions."""
    cli.ingest_stdin(V2 % 1)
    (failure_id,) = failure_ids(cli)
    body = cli.json("failures", "explain", failure_id, "--all-contracts")
    assert body["would_pass_as"]["tried"] == ["shipment@2", "order@1", "shipment_compat@1"]


@pytest.mark.parametrize(
    "subject", ["fail_00000000000000000000000000000000", "cls_00000000000000000000000000000000"]
)
def test_an_unknown_id_exits_1(cli: Cli, subject: str) -> None:
    """An id no failure or class has exits 1, saying which kind was looked for."""
    cli.ingest_stdin(V2 % 1)
    result = cli.run("failures", "explain", subject)
    assert result.exit_code == 1
    assert ("failure class" if subject.startswith("cls_") else "failure record") in result.stderr


def test_explains_a_class_with_its_drift(cli: Cli) -> None:
    """A class id: its samples judged together, and its producers' drift."""
    cli.ingest_stdin(V2 % 1, V2 % 2)
    class_id = cli.json("failures", "explain", failure_ids(cli)[0])["class_id"]
    result = cli.run("failures", "explain", class_id, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "All 2 samples pass shipment@2" in result.stdout
    assert "drift: First seen" in result.stdout
    assert "a new producer" in result.stdout
