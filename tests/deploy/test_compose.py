"""deploy/compose.yaml, checked structurally (Debian's podman-compose 1.0.3 has no ``config`` command and no
Docker Compose is installed here): every service runs a pinned image with a health check, starts after
what it needs is healthy, and is configured only by real settings, which the gateway and the worker accept.
"""

import re
from typing import Any

import pytest
import yaml

from deploy_support import DEPLOY, unknown_settings
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
    """Published ports bind 127.0.0.1; n8n mounts orchestration/n8n read-only."""
    published = [port for service in services.values() for port in service.get("ports", [])]
    assert published
    assert all(port.startswith("127.0.0.1:") for port in published)
    assert "../orchestration/n8n:/workflows:ro" in services["n8n"]["volumes"]
