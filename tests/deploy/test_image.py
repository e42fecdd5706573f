"""The container image, built with podman and run: /healthz and one ingested event through a published port.

Cost, on the 2-core test machine: 3 min 40 s with no image yet (a Debian base image made with
debootstrap, 90 s; the build, 2 minutes, mostly apt and pip inside it), plus about a minute the very first
time (podman, buildah, runc and debootstrap from apt); 10 s afterwards (podman keeps the base image and
the cached layers). It prints its own timings.
It needs root (apt-get, debootstrap) and the Debian and PyPI mirrors, but no image registry: that is what
scripts/podman-base prepares.
"""

import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from deploy_support import ROOT, run, system_tool
from serve_support import free_port
from sigma_aetl.testing import JSON_HEADERS, wait_until

IMAGE = "localhost/sigma-aetl:test"
BASE = "localhost/debian:bookworm"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
"""The machine's CA bundle, handed to pip in the build as a secret (a TLS-inspecting proxy needs it)."""
EVENT = b'{"shipment_id": "IMAGE-1", "weight_kg": 2.5, "destination": "Cork", "priority": 1}'


@pytest.fixture(scope="module")
def podman_env() -> dict[str, str]:
    """The environment podman runs in: the containers.conf scripts/podman-base made (runc, ulimits)."""
    started = time.monotonic()
    conf = run([ROOT / "scripts" / "podman-base", BASE], timeout=900).strip().splitlines()[-1]
    system_tool("podman")
    print(f"podman and the base image {BASE} ready in {time.monotonic() - started:.0f} s")
    return {**os.environ, "CONTAINERS_CONF": conf}


@pytest.fixture(scope="module")
def image(podman_env: dict[str, str]) -> str:
    """The image built from the repository's Dockerfile on the local Debian base."""
    command: list[str | Path] = ["podman", "build", "--format", "docker", "--build-arg", f"BASE_IMAGE={BASE}"]
    if CA_BUNDLE.exists():
        command += ["--secret", f"id=ca-certificates,src={CA_BUNDLE}"]
    started = time.monotonic()
    run([*command, "-t", IMAGE, ROOT], timeout=900, env=podman_env)
    print(f"image {IMAGE} built in {time.monotonic() - started:.0f} s")
    return IMAGE


@pytest.fixture
def container(image: str, podman_env: dict[str, str]) -> Iterator[tuple[str, str, str]]:
    """A running container of the image (its default command, serve, on 0.0.0.0 inside it), its published
    base URL and an admin token: the way an operator starts it, the first API key made in its store volume
    by a one-off `keys create` container, and the Host names it answers set."""
    name, port = f"sigma-aetl-test-{uuid.uuid4().hex[:8]}", free_port()
    volume = ["-v", f"{name}-data:/var/lib/sigma-aetl"]
    made = run(
        [
            "podman",
            "run",
            "--rm",
            *volume,
            image,
            "keys",
            "create",
            "--name",
            "admin",
            "--scope",
            "admin",
            "--json",
        ],
        env=podman_env,
    )
    token = json.loads(made)["token"]
    hosts = ["-e", "SIGMA_AETL_ALLOWED_HOSTS=127.0.0.1,localhost"]
    run(
        ["podman", "run", "-d", "--name", name, *volume, *hosts, "-p", f"127.0.0.1:{port}:8000", image],
        env=podman_env,
    )
    try:
        yield name, f"http://127.0.0.1:{port}", token
    finally:
        subprocess.run(["podman", "rm", "-f", name], env=podman_env, capture_output=True, check=False)
        subprocess.run(
            ["podman", "volume", "rm", "-f", f"{name}-data"], env=podman_env, capture_output=True, check=False
        )


def answers(url: str) -> bool:
    """Whether ``url`` answers 200 yet."""
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False


@pytest.mark.slow
def test_the_image_serves_healthz_and_stores_an_event_as_a_non_root_user(
    container: tuple[str, str, str], podman_env: dict[str, str]
) -> None:
    """The built image answers /healthz through a published port, refuses a request without its key, stores
    one event sent with it (readable back by its record id), runs as uid 10001, and its HEALTHCHECK passes."""
    name, base, token = container
    wait_until(lambda: answers(f"{base}/healthz"), 60, "the container's /healthz")
    headers = {"content-type": "application/json", "authorization": f"Bearer {token}"}
    refused = httpx.post(f"{base}/v1/ingest/shipment/1", content=EVENT, timeout=10, headers=JSON_HEADERS)
    assert refused.status_code == 401, refused.text
    reply = httpx.post(f"{base}/v1/ingest/shipment/1", content=EVENT, timeout=10, headers=headers)
    assert reply.status_code == 200, reply.text
    assert (reply.json()["status"], reply.json()["duplicate"]) == ("PASSED", False)
    stored = httpx.get(f"{base}/v1/records/{reply.json()['record_id']}", timeout=10, headers=headers)
    assert stored.status_code == 200
    assert stored.json()["data"]["shipment_id"] == "IMAGE-1"
    assert run(["podman", "exec", name, "id", "-u"], env=podman_env).strip() == "10001"
    run(["podman", "healthcheck", "run", name], env=podman_env)
