"""Installing a Debian package a test needs (chromium, podman, promtool) when it is missing and the tests
run as root. The test processes run in parallel, and dpkg takes one lock: apt waits for it (up to
:data:`LOCK_WAIT` seconds) instead of failing at once, as it does by default. Package lists that are
missing or stale are fetched once, and the install tried again."""

import os
import shutil
import subprocess

LOCK_WAIT = 900
"""Seconds apt waits for dpkg's lock while another test's install holds it."""


def can_install() -> bool:
    """Whether a missing package can be installed here: as root, with apt-get."""
    return os.geteuid() == 0 and shutil.which("apt-get") is not None


def apt_install(package: str, timeout: float = 900) -> str:
    """Install ``package`` (no recommends); '' once installed, else what apt said last."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    apt = ["apt-get", "-o", f"DPkg::Lock::Timeout={LOCK_WAIT}"]
    install = [*apt, "install", "-y", "-qq", "--no-install-recommends", package]
    done = subprocess.run(install, capture_output=True, text=True, timeout=timeout, check=False, env=env)
    if done.returncode != 0:  # e.g. no package lists yet on a fresh machine
        subprocess.run([*apt, "update", "-qq"], capture_output=True, timeout=timeout, check=False, env=env)
        done = subprocess.run(install, capture_output=True, text=True, timeout=timeout, check=False, env=env)
    return "" if done.returncode == 0 else (done.stderr or done.stdout).strip()[-500:]
