"""The Helm chart deploy/helm/sigma-aetl: linted, rendered with default and non-default values, every
rendered object validated against the Kubernetes schemas (kubernetes-validate, offline, strict), and what
the chart promises read from the rendered objects.
"""

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy_support import CHART, ROOT, SETTINGS_VARIABLES, run, venv_tool
from sigma_aetl.contracts.loader import load_registry
from sigma_aetl.contracts.snapshot import snapshot
from sigma_aetl.http.hosts import AllowedHosts
from sigma_aetl.kafka.config import KafkaConfig
from sigma_aetl.settings import Settings

KUBERNETES = "1.37.0"
"""The newest Kubernetes version whose schemas kubernetes-validate ships."""
EXAMPLES = ROOT / "src" / "sigma_aetl" / "examples" / "contracts"
CUSTOM = [
    "--set", "gateway.autoscaling.enabled=true",
    "--set", "worker.replicas=6",
    "--set", "contracts.restartOnChange=true",
    "--set", "secret.existingSecret=sigma-aetl-prod",
    "--set", "kafka.topics={events}",
    "--set", "kafka.staticMembership=false",
    "--set-file", "contracts.files.contracts\\.lock\\.json=" + str(EXAMPLES / "contracts.lock.json"),
    "--set-file", "contracts.files.shipment/v1\\.py=" + str(EXAMPLES / "shipment" / "v1.py"),
]  # fmt: skip
"""Non-default values: an HPA, six workers, rolling on contract changes, an existing Secret, header-routed
topics, dynamic membership, contracts given as files."""

Objects = dict[tuple[str, str], dict[str, Any]]


def render(tmp_path: Path, *options: str) -> tuple[Path, Objects]:
    """``helm template`` of the chart: the manifest file and its objects by (kind, name)."""
    manifest = tmp_path / "rendered.yaml"
    manifest.write_text(run([venv_tool("helm"), "template", "sigma-aetl", CHART, *options]))
    objects = [doc for doc in yaml.safe_load_all(manifest.read_text()) if doc]
    return manifest, {(doc["kind"], doc["metadata"]["name"]): doc for doc in objects}


def container(objects: Objects, kind: str, name: str) -> dict[str, Any]:
    """The one container of a workload."""
    (found,) = objects[(kind, name)]["spec"]["template"]["spec"]["containers"]
    return dict(found)


def environment(found: dict[str, Any]) -> dict[str, Any]:
    """A container's env entries: a value, or the valueFrom it is read from."""
    return {entry["name"]: entry.get("value", entry.get("valueFrom")) for entry in found["env"]}


@pytest.mark.parametrize("options", [[], CUSTOM], ids=["default", "custom"])
def test_the_chart_lints_and_every_rendered_object_is_valid_kubernetes(
    tmp_path: Path, options: list[str]
) -> None:
    """helm lint passes and kubernetes-validate --strict accepts every object helm template renders."""
    run([venv_tool("helm"), "lint", "--strict", CHART, *options])
    manifest, objects = render(tmp_path, *options)
    assert objects
    report = run([venv_tool("kubernetes-validate"), "--strict", "-k", KUBERNETES, manifest])
    assert report.count("passed for resource") == len(objects), report


def test_the_default_release_holds_every_part(tmp_path: Path) -> None:
    """Gateway Deployment and Service, worker StatefulSet with its headless Service, contracts ConfigMap,
    Secret, and a PodDisruptionBudget for each; no HPA unless asked."""
    _, objects = render(tmp_path)
    assert set(objects) == {
        ("Deployment", "sigma-aetl-gateway"),
        ("Service", "sigma-aetl-gateway"),
        ("StatefulSet", "sigma-aetl-worker"),
        ("Service", "sigma-aetl-worker"),
        ("ConfigMap", "sigma-aetl-contracts"),
        ("Secret", "sigma-aetl-env"),
        ("PodDisruptionBudget", "sigma-aetl-gateway"),
        ("PodDisruptionBudget", "sigma-aetl-worker"),
    }
    assert objects[("Service", "sigma-aetl-worker")]["spec"]["clusterIP"] == "None"


def test_probes_security_and_graceful_termination(tmp_path: Path) -> None:
    """The gateway is ready on /readyz and live on /healthz, the workers on their health port; every pod
    runs non-root on a read-only root with writable emptyDirs; a worker gets longer than a batch to stop."""
    _, objects = render(tmp_path)
    for kind, name, port in [
        ("Deployment", "sigma-aetl-gateway", "http"),
        ("StatefulSet", "sigma-aetl-worker", "health"),
    ]:
        found = container(objects, kind, name)
        assert found["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port}
        assert found["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": port}
        assert found["securityContext"]["readOnlyRootFilesystem"] is True
        assert found["securityContext"]["allowPrivilegeEscalation"] is False
        assert {mount["mountPath"] for mount in found["volumeMounts"]} == {
            "/etc/sigma-aetl/contracts", "/var/lib/sigma-aetl", "/tmp",
        }  # fmt: skip
        assert found["resources"]["limits"]
        assert found["resources"]["requests"]
        pod = objects[(kind, name)]["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert {volume["name"] for volume in pod["volumes"] if "emptyDir" in volume} == {"data", "tmp"}
    worker = objects[("StatefulSet", "sigma-aetl-worker")]["spec"]["template"]["spec"]
    assert worker["terminationGracePeriodSeconds"] >= 60


def test_workers_are_static_members_named_by_their_pod(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each worker's group.instance.id is its pod name, and its environment (plus the Secret's store URL)
    makes settings and a Kafka configuration that work, cooperative-sticky and static."""
    _, objects = render(tmp_path)
    env = environment(container(objects, "StatefulSet", "sigma-aetl-worker"))
    assert env.pop("SIGMA_AETL_KAFKA_GROUP_INSTANCE_ID") == {"fieldRef": {"fieldPath": "metadata.name"}}
    secret = objects[("Secret", "sigma-aetl-env")]["stringData"]
    for name in SETTINGS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in {**env, **secret, "SIGMA_AETL_KAFKA_GROUP_INSTANCE_ID": "sigma-aetl-worker-0"}.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    properties = KafkaConfig.from_settings(settings).consumer_properties()
    assert properties["group.instance.id"] == "sigma-aetl-worker-0"
    assert properties["partition.assignment.strategy"] == "cooperative-sticky"
    assert properties["session.timeout.ms"] == 45000
    assert settings.store_url.startswith("mongodb://")
    assert settings.host == "0.0.0.0"


def test_every_sigma_aetl_variable_is_a_setting(tmp_path: Path) -> None:
    """Every SIGMA_AETL_* variable the chart sets, in pods or Secret, names a field of settings.py."""
    _, objects = render(tmp_path, *CUSTOM, "--set", "secret.existingSecret=")
    names = set(objects[("Secret", "sigma-aetl-env")]["stringData"])
    for kind, name in [("Deployment", "sigma-aetl-gateway"), ("StatefulSet", "sigma-aetl-worker")]:
        names |= set(environment(container(objects, kind, name)))
    assert names <= SETTINGS_VARIABLES, names - SETTINGS_VARIABLES


def test_the_contracts_config_map_mounts_as_the_contracts_directory(tmp_path: Path) -> None:
    """The ConfigMap's keys, laid out by the volume's items, rebuild the example contracts byte for byte,
    and they load (lock checked) as a registry."""
    _, objects = render(tmp_path)
    data = objects[("ConfigMap", "sigma-aetl-contracts")]["data"]
    (volume,) = [
        v
        for v in objects[("Deployment", "sigma-aetl-gateway")]["spec"]["template"]["spec"]["volumes"]
        if v["name"] == "contracts"
    ]
    mounted = tmp_path / "contracts"
    for item in volume["configMap"]["items"]:
        (mounted / item["path"]).parent.mkdir(parents=True, exist_ok=True)
        (mounted / item["path"]).write_text(data[item["key"]])
    examples = {
        p.relative_to(EXAMPLES) for p in EXAMPLES.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    }
    assert {p.relative_to(mounted) for p in mounted.rglob("*") if p.is_file()} == examples
    assert all((mounted / p).read_bytes() == (EXAMPLES / p).read_bytes() for p in examples)
    assert len(load_registry(mounted).all()) == len(load_registry(EXAMPLES).all())


def test_non_default_values_add_an_hpa_roll_on_contract_changes_and_use_an_existing_secret(
    tmp_path: Path,
) -> None:
    """With autoscaling the gateway has an HPA and no fixed replicas; restartOnChange puts a contracts
    checksum on both pod templates; an existing Secret replaces the chart's own; without static membership
    the workers have no instance id."""
    _, objects = render(tmp_path, *CUSTOM)
    assert ("HorizontalPodAutoscaler", "sigma-aetl-gateway") in objects
    assert "replicas" not in objects[("Deployment", "sigma-aetl-gateway")]["spec"]
    assert ("Secret", "sigma-aetl-env") not in objects
    for kind, name in [("Deployment", "sigma-aetl-gateway"), ("StatefulSet", "sigma-aetl-worker")]:
        template = objects[(kind, name)]["spec"]["template"]
        assert template["metadata"]["annotations"]["checksum/contracts"]
        assert template["spec"]["containers"][0]["envFrom"] == [{"secretRef": {"name": "sigma-aetl-prod"}}]
    assert set(objects[("ConfigMap", "sigma-aetl-contracts")]["data"]) == {
        "contracts.lock.json",
        "shipment__v1.py",
    }
    assert objects[("StatefulSet", "sigma-aetl-worker")]["spec"]["replicas"] == 6
    worker = environment(container(objects, "StatefulSet", "sigma-aetl-worker"))
    assert "SIGMA_AETL_KAFKA_GROUP_INSTANCE_ID" not in worker
    assert worker["SIGMA_AETL_KAFKA_TOPICS"] == '["events"]'


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--set", "worker.replicas=7"], "worker.replicas (7) exceeds kafka.partitions (6)"),
        (["--set", "kafka.routes=null"], "no topic to consume"),
    ],
)
def test_values_that_cannot_work_are_refused(options: list[str], message: str) -> None:
    """More workers than partitions, or workers with nothing to consume: helm template fails, saying why."""
    result = subprocess.run(
        [str(venv_tool("helm")), "template", "sigma-aetl", str(CHART), *options],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert result.returncode != 0
    assert message in result.stderr


def configmap_volume(root: Path, files: dict[str, bytes], version: str) -> None:
    """Lay ``files`` out as the kubelet mounts a ConfigMap: a timestamped directory, ``..data`` pointing at
    it, and top-level symbolic links through ``..data``; a new version swaps ``..data`` atomically."""
    real = root / f"..{version}"
    for path, content in files.items():
        (real / path).parent.mkdir(parents=True, exist_ok=True)
        (real / path).write_bytes(content)
    (root / "..data_tmp").symlink_to(real.name)
    (root / "..data_tmp").replace(root / "..data")
    for top in {path.split("/")[0] for path in files}:
        if not (root / top).is_symlink():
            (root / top).symlink_to(f"..data/{top}")


def test_a_config_map_update_is_seen_by_the_contracts_watcher(tmp_path: Path) -> None:
    """Mounted the kubelet's way, the contracts load, and a ConfigMap update (``..data`` swapped to a new
    version with one more contract) changes the snapshot the watcher compares, then loads the new version."""
    files = {str(p.relative_to(EXAMPLES)): p.read_bytes() for p in EXAMPLES.rglob("*") if p.is_file()}
    files = {path: content for path, content in files.items() if "__pycache__" not in path}
    mounted = tmp_path / "contracts"
    mounted.mkdir()
    configmap_volume(mounted, files, "2026_01_01_v1")
    before, loaded = snapshot(mounted), len(load_registry(mounted).all())
    draft = files["shipment/v2.json"].replace(b'"version": 2', b'"version": 3')
    configmap_volume(mounted, {**files, "shipment/v3.json": draft}, "2026_01_02_v2")
    assert snapshot(mounted) != before
    assert len(load_registry(mounted).all()) == loaded + 1


def test_the_gateway_answers_its_service_names_and_starts_only_with_keys_by_default(tmp_path: Path) -> None:
    """The gateway's allowed Host names are its Service's DNS names plus the extra ones given, and it is
    open (no key needed) only when allowOpen says so."""
    _, objects = render(tmp_path)
    env = environment(container(objects, "Deployment", "sigma-aetl-gateway"))
    service = "sigma-aetl-gateway"
    assert env["SIGMA_AETL_ALLOWED_HOSTS"].split(",") == [
        *(service, f"{service}.default", f"{service}.default.svc", f"{service}.default.svc.cluster.local")
    ]
    assert "SIGMA_AETL_ALLOW_OPEN" not in env
    options = ("--set", "gateway.extraAllowedHosts={events.example.com}", "--set", "gateway.allowOpen=true")
    _, objects = render(tmp_path, *options)
    env = environment(container(objects, "Deployment", "sigma-aetl-gateway"))
    assert env["SIGMA_AETL_ALLOWED_HOSTS"].endswith(",events.example.com")
    assert env["SIGMA_AETL_ALLOW_OPEN"] == "true"
    assert AllowedHosts.of_setting(env["SIGMA_AETL_ALLOWED_HOSTS"], "0.0.0.0") is not None  # names it takes
