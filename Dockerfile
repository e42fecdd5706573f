# The SIGMA-AETL gateway and worker image. See docs/deploy.md.
#
#   podman build --format docker -t sigma-aetl .        # on the public debian:bookworm-slim
#   podman build --format docker --build-arg BASE_IMAGE=localhost/debian:bookworm -t sigma-aetl .  # no registry
# (--format docker: the OCI format has no HEALTHCHECK; docker build needs no flag.)
#   podman run --rm -v data:/var/lib/sigma-aetl sigma-aetl keys create --name admin --scope admin  # first key
#   podman run -v data:/var/lib/sigma-aetl -e SIGMA_AETL_ALLOWED_HOSTS=localhost,127.0.0.1 \
#     -p 127.0.0.1:8000:8000 sigma-aetl                                  # serve, SQLite in the volume
#   podman run sigma-aetl worker --route shipments=shipment@1 ...        # any sigma-aetl command
#
# Every setting is a SIGMA_AETL_* variable. The example contracts are baked into /etc/sigma-aetl/contracts;
# mount your own contracts directory (with its lock) over it. Behind a TLS-inspecting proxy, pass its CA
# bundle to pip as a build secret: --secret id=ca-certificates,src=/etc/ssl/certs/ca-certificates.crt
#
# Both stages start from the same Debian base and use its python3 (3.11 on bookworm), so the virtual
# environment built in the first stage runs unchanged in the second.
ARG BASE_IMAGE=docker.io/library/debian:bookworm-slim

FROM ${BASE_IMAGE} AS build
# Versions come from the base's Debian release: pinning them here would break every point release.
# hadolint ignore=DL3008
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        python3 python3-venv ca-certificates \
    && rm -rf /var/lib/apt/lists/*
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python3 -m venv /opt/sigma-aetl
COPY requirements/runtime.txt /src/requirements/runtime.txt
# Only the runtime lock, every file checked against its hash.
RUN --mount=type=secret,id=ca-certificates,target=/run/secrets/ca-certificates.crt \
    if [ -s /run/secrets/ca-certificates.crt ]; then export PIP_CERT=/run/secrets/ca-certificates.crt; fi; \
    /opt/sigma-aetl/bin/pip install --require-hashes --only-binary=:all: \
        -r /src/requirements/runtime.txt
COPY pyproject.toml README.md /src/
COPY src /src/src
# The project itself, without dependencies (they are all installed above, from the lock). pip fetches
# the build backend (setuptools) for this step only; it stays in this stage.
RUN --mount=type=secret,id=ca-certificates,target=/run/secrets/ca-certificates.crt \
    if [ -s /run/secrets/ca-certificates.crt ]; then export PIP_CERT=/run/secrets/ca-certificates.crt; fi; \
    /opt/sigma-aetl/bin/pip install --no-deps /src

FROM ${BASE_IMAGE} AS runtime
# hadolint ignore=DL3008
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 sigma \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/sigma-aetl --create-home sigma
COPY --from=build /opt/sigma-aetl /opt/sigma-aetl
COPY src/sigma_aetl/examples/contracts /etc/sigma-aetl/contracts
ENV PATH=/opt/sigma-aetl/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    SIGMA_AETL_HOST=0.0.0.0 \
    SIGMA_AETL_PORT=8000 \
    SIGMA_AETL_CONTRACTS_DIR=/etc/sigma-aetl/contracts \
    SIGMA_AETL_STORE_URL=sqlite:////var/lib/sigma-aetl/sigma-aetl.db
USER 10001:10001
WORKDIR /var/lib/sigma-aetl
VOLUME ["/var/lib/sigma-aetl"]
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('SIGMA_AETL_PORT', '8000')}/healthz\", timeout=2)"]
ENTRYPOINT ["sigma-aetl"]
CMD ["serve"]
