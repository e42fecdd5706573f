"""deploy/compose.yaml, checked structurally and by compose itself: every service runs a pinned image with a
health check, starts after what it needs is healthy, and is configured only by real settings, which the
gateway and the worker accept; ``podman-compose config`` (1.6, from the dev lock) normalises the file to
the same services, health checks, dependencies and environment, and ``podman-compose --dry-run up``
would create every container of each profile, in dependency order, without starting anything.

``config`` never calls podman, but podman-compose runs ``podman --version`` before any command unless
it is a dry run, so the config check runs with ``--dry-run`` (same output) and needs no podman. ``up
--dry-run`` still asks podman what exists (``ps``, ``inspect``, ``network exists``; nothing is created):
podman is installed with apt-get when missing (see ``deploy_support.podman``).
"""

import os
import re
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy_support import DEPLOY, podman, run, run_both, unknown_settings, venv_tool
from sigma_aetl.kafka.config import KafkaConfig
from sigma_aetl.settings import Settings

COMPOSE = DEPLOY / "compose.yaml"
ONE_SHOT = {"kafka-topics"}
"""Services that run once and exit (their dependants wait for service_completed_successfully)."""


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    """The compose file's services, YAML anchors and merge keys resolved."""
    loaded = yaml.safe_load(COMPOSE.read_text())
    assert loaded["name"] == "sigma-aetl"
    found: dict[str, dict[str, Any]] = loaded["services"]
    return found


def environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as a mapping of strings, ``${NAME:-default}`` read as compose reads it with
    NAME unset."""
    return {name: _DEFAULTED.sub(r"\1", str(value)) for name, value in service.get("environment", {}).items()}


_DEFAULTED = re.compile(r"\$\{[A-Z0-9_]+:-([^}]*)\}")


def test_the_stack_has_every_part(services: dict[str, dict[str, Any]]) -> None:
    """Kafka, its topic, MongoDB, the gateway, workers, n8n, and Ollama behind the ai profile."""
    assert set(services) == {"kafka", "kafka-topics", "mongodb", "gateway", "worker", "n8n", "ollama"}
    assert services["ollama"]["profiles"] == ["ai"]
    assert all("profiles" not in service for name, service in services.items() if name != "ollama")
    assert "--replSet" in services["mongodb"]["command"]
    assert environment(services["kafka"])["KAFKA_PROCESS_ROLES"] == "broker,controller"


def test_every_service_runs_a_pinned_image_and_checks_its_health(services: dict[str, dict[str, Any]]) -> None:
    """Each image names a tag (never latest, except the locally built one); each long-running service has
    a health check."""
    for name, service in services.items():
        image = service["image"]
        assert ":" in image.rsplit("/", 1)[-1], f"{name}: {image} has no tag"
        assert not image.endswith(":latest") or "build" in service, f"{name}: {image} is not pinned"
        if name not in ONE_SHOT:
            assert service["healthcheck"]["test"], f"{name} has no health check"


def test_services_start_after_what_they_need_is_healthy(services: dict[str, dict[str, Any]]) -> None:
    """Every dependency is another service, waited for healthy (or completed, for a one-shot service that
    has no health check), and the start order has no cycle."""
    for name, service in services.items():
        for needed, how in service.get("depends_on", {}).items():
            wanted = "service_completed_successfully" if needed in ONE_SHOT else "service_healthy"
            assert how == {"condition": wanted}, f"{name} → {needed}: {how}"
            assert needed in ONE_SHOT or "healthcheck" in services[needed]
    order = start_order(services)
    assert order.index("mongodb") < order.index("gateway") < order.index("worker")
    assert order.index("gateway") < order.index("n8n")
    assert order.index("kafka") < order.index("kafka-topics") < order.index("worker")


def start_order(services: dict[str, dict[str, Any]]) -> list[str]:
    """The services in an order where each follows what it depends on; fails on a cycle."""
    order: list[str] = []
    while len(order) < len(services):
        ready = [
            name
            for name, service in services.items()
            if name not in order and set(service.get("depends_on", {})) <= set(order)
        ]
        assert ready, f"a dependency cycle among {set(services) - set(order)}"
        order.extend(sorted(ready))
    return order


def test_every_sigma_aetl_variable_is_a_setting(services: dict[str, dict[str, Any]]) -> None:
    """No SIGMA_AETL_* variable in the file is a typo: each names a field of settings.py."""
    for name, service in services.items():
        assert not unknown_settings(set(environment(service))), name


@pytest.mark.parametrize("name", ["gateway", "worker"])
def test_the_gateway_and_the_workers_accept_their_environment(
    name: str, services: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The settings load from the service's environment as the container would read them (JSON maps
    included), and the worker's form a Kafka configuration that can work."""
    for key in list(Settings.model_fields):
        monkeypatch.delenv(f"SIGMA_AETL_{key.upper()}", raising=False)
    for key, value in environment(services[name]).items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    assert settings.store_url.startswith("mongodb://mongodb:27017/")
    assert settings.host == "0.0.0.0"
    if name == "worker":
        config = KafkaConfig.from_settings(settings)
        assert config.routes == {"shipments": ("shipment", "1")}
        assert settings.kafka_health_port is not None
        assert config.group_instance_id is None  # compose replicas have no stable names


def test_workers_are_replicas_bounded_by_the_topic_partitions(services: dict[str, dict[str, Any]]) -> None:
    """The worker count is a variable with a default of at most the partitions the topic is created with,
    and a stop gives a worker time to store and commit its batch."""
    command = services["kafka-topics"]["command"]
    partitions = int(command[command.index("--partitions") + 1])
    replicas = services["worker"]["deploy"]["replicas"]
    assert replicas.startswith("${WORKER_REPLICAS:-")
    assert int(replicas.removeprefix("${WORKER_REPLICAS:-").rstrip("}")) <= partitions
    assert services["worker"]["stop_grace_period"] == "60s"


def test_only_loopback_ports_are_published_and_n8n_gets_the_workflows(
    services: dict[str, dict[str, Any]],
) -> None:
    """Published ports bind 127.0.0.1; n8n mounts orchestration/n8n read-only and loads our Kafka trigger
    node from it as a custom extension."""
    published = [port for service in services.values() for port in service.get("ports", [])]
    assert published
    assert all(port.startswith("127.0.0.1:") for port in published)
    assert "../orchestration/n8n:/workflows:ro" in services["n8n"]["volumes"]
    extension = environment(services["n8n"])["N8N_CUSTOM_EXTENSIONS"]
    mounted = DEPLOY.parent / "orchestration" / "n8n" / Path(extension).relative_to("/workflows")
    assert (mounted / "package.json").is_file(), extension


PROFILES = [None, "ai"]
"""The stack by default, and with Ollama (the ai profile)."""


def active(services: dict[str, dict[str, Any]], profile: str | None) -> set[str]:
    """The services compose runs with ``profile`` enabled (or none)."""
    return {name for name, service in services.items() if profile in service.get("profiles", [profile])}


def compose(*args: str | Path, profile: str | None = None) -> list[str | Path]:
    """A podman-compose command line on the compose file, with ``profile`` enabled."""
    chosen = ["--profile", profile] if profile else []
    return [venv_tool("podman-compose"), *chosen, "-f", COMPOSE, *args]


def compose_environ() -> dict[str, str]:
    """The environment without any variable the file interpolates, so compose uses its defaults (as the
    structural checks read them)."""
    interpolated = set(re.findall(r"\$\{([A-Z0-9_]+)", COMPOSE.read_text()))
    return {key: value for key, value in os.environ.items() if key not in interpolated}


@pytest.mark.parametrize("profile", PROFILES)
def test_compose_itself_reads_the_file_as_the_structural_checks_do(
    profile: str | None, services: dict[str, dict[str, Any]]
) -> None:
    """``podman-compose config`` accepts the file; its normalised model has the profile's services, each
    with the health check, dependencies and (defaulted) environment read above, and two worker replicas."""
    model = yaml.safe_load(run(compose("--dry-run", "config", profile=profile), env=compose_environ()))
    normalised: dict[str, dict[str, Any]] = model["services"]
    assert set(normalised) == active(services, profile)
    for name, service in normalised.items():
        assert service.get("healthcheck") == services[name].get("healthcheck"), name
        assert service.get("depends_on", {}) == services[name].get("depends_on", {}), name
        assert service.get("environment", {}) == environment(services[name]), name
        assert not unknown_settings(set(service.get("environment", {}))), name
    assert normalised["worker"]["deploy"] == {"mode": "replicated", "replicas": "2"}


@pytest.mark.parametrize("profile", PROFILES)
def test_a_dry_run_of_up_would_create_every_container_in_order_and_starts_none(
    profile: str | None, services: dict[str, dict[str, Any]]
) -> None:
    """``podman-compose --dry-run up`` lists one container per service of the profile (two workers), each
    after the services it depends on, and leaves no container or pod behind."""
    podman()
    project = f"sigma-aetl-dry-{uuid.uuid4().hex[:8]}"
    command = compose("--verbose", "--dry-run", "-p", project, "up", "-d", profile=profile)
    _, log = run_both(command, env=compose_environ())
    created = re.findall(rf"podman create --name={project}_(\S+)_(\d+) ", log)
    expected = {(name, "1") for name in active(services, profile)} | {("worker", "2")}
    assert sorted(created) == sorted(expected)
    order = [name for name, _ in created]
    for name in order:
        for needed in services[name].get("depends_on", {}):
            assert order.index(needed) < order.index(name), f"{name} is created before {needed}"
    listed = run(["podman", "ps", "-a", "--filter", f"label=io.podman.compose.project={project}", "-q"])
    assert listed.strip() == ""
    pod = subprocess.run(["podman", "pod", "exists", f"pod_{project}"], capture_output=True, check=False)
    assert pod.returncode != 0, "the dry run created a pod"
