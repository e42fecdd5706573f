"""``sigma-aetl advisor run | status | request`` against a scripted Ollama server."""

import json
import subprocess
import sys

from advisor_support import MISSING, NEGATIVE, every_failure
from cli_support import CONTRACTS, Cli, clean_environ
from sigma_aetl.core.advisories import AdvisoryTarget
from sigma_aetl.scripted_ollama import ScriptedOllama
from sigma_aetl.stores import open_store


def failure_ids(cli: Cli, count: int) -> list[str]:
    """Ingest ``count`` failing shipments (two kinds) and return their failure ids."""
    lines = [(NEGATIVE if n % 2 else MISSING) % n for n in range(count)]
    cli.ingest_stdin(*lines)
    store = open_store(cli.store_url, read_only=True)
    try:
        return sorted(failure.failure_id for failure in every_failure(store))
    finally:
        store.close()


def test_run_without_an_advisor_url_says_how_to_set_one(cli: Cli) -> None:
    """`advisor run` with no SIGMA_AETL_ADVISOR_URL exits 2 naming the variable."""
    result = cli.run("advisor", "run", "--once")
    assert result.exit_code == 2
    assert "SIGMA_AETL_ADVISOR_URL" in result.stderr


def test_request_queues_a_failure_once_and_refuses_an_unknown_id(cli: Cli) -> None:
    """`advisor request` queues a failure, a second request keeps its job, and an unknown id is exit 1."""
    (failure_id,) = failure_ids(cli, 1)
    first = cli.run("advisor", "request", failure_id)
    assert first.exit_code == 0
    assert "queued" in first.stdout
    again = cli.run("advisor", "request", failure_id)
    assert again.exit_code == 0
    assert "already has a job (queued)" in again.stdout
    unknown = cli.run("advisor", "request", "f_nothing")
    assert unknown.exit_code == 1


def test_run_once_advises_and_status_shows_the_queue_and_the_server(cli: Cli) -> None:
    """`run --once` in failure scope advises every failure; `status` shows the queue done and the server."""
    ids = failure_ids(cli, 3)
    with ScriptedOllama("normal") as server:
        env = {"SIGMA_AETL_ADVISOR_URL": server.url, "SIGMA_AETL_ADVISOR_SCOPE": "failure"}
        result = cli.run("advisor", "run", "--once", env=env)
        assert result.exit_code == 0, result.output
        assert "advised" in result.stdout
        assert "done 3" in result.stdout
        status = cli.run("advisor", "status", "--json", env=env)
    shown = json.loads(status.stdout)
    assert shown["queue"] == {"queued": 0, "leased": 0, "done": 3, "failed": 0}
    assert shown["server"] == "Ollama 0.0.0-scripted, model qwen2.5:7b pulled"
    assert server.calls == len(ids)


def test_status_lists_recent_errors(cli: Cli) -> None:
    """Advisory errors are listed by `advisor status`, with their reason."""
    failure_ids(cli, 1)
    with ScriptedOllama("500") as server:
        env = {
            "SIGMA_AETL_ADVISOR_URL": server.url,
            "SIGMA_AETL_ADVISOR_SCOPE": "failure",
            "SIGMA_AETL_ADVISOR_MAX_ATTEMPTS": "1",
        }
        cli.run("advisor", "run", "--once", env=env)
        status = cli.run("advisor", "status", env=env)
    assert "HTTP 500: scripted failure" in status.stdout


def test_two_advisor_processes_on_one_store_never_advise_one_target_twice(cli: Cli) -> None:
    """Two `advisor run --once` processes at once share the queue: every failure is asked about once."""
    ids = failure_ids(cli, 8)
    with ScriptedOllama("slow", delay=0.3) as server:
        env = {
            **clean_environ(),
            "SIGMA_AETL_ADVISOR_URL": server.url,
            "SIGMA_AETL_ADVISOR_SCOPE": "failure",
            "SIGMA_AETL_ADVISOR_CONCURRENCY": "2",
        }
        program = [
            sys.executable,
            "-m",
            "sigma_aetl",
            "--store",
            cli.store_url,
            "--contracts",
            str(CONTRACTS),
        ]
        command = [*program, "advisor", "run", "--once"]
        runs = [
            subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in "ab"
        ]
        outputs = [run.communicate(timeout=120)[0].decode() for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert server.calls == len(ids)
    store = open_store(cli.store_url, read_only=True)
    try:
        for failure_id in ids:
            assert len(store.list_advisories(AdvisoryTarget(kind="failure", id=failure_id))) == 1
    finally:
        store.close()


def test_a_bad_advisor_setting_is_a_clear_usage_error(cli: Cli) -> None:
    """An advisor URL that is not http(s), or a concurrency of 0, exits 2 naming the setting."""
    for name, value in (
        ("SIGMA_AETL_ADVISOR_URL", "localhost:11434"),
        ("SIGMA_AETL_ADVISOR_CONCURRENCY", "0"),
    ):
        result = cli.run("advisor", "status", env={name: value})
        assert result.exit_code == 2
        assert name.removeprefix("SIGMA_AETL_").lower() in result.stderr
