"""``scripts/serve`` passes its arguments on to ``sigma-aetl serve``, from the repository root."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from cli_support import clean_environ

ROOT = Path(__file__).parents[2]


def installed_venv(venv: Path) -> Path:
    """A stand-in environment that scripts/bootstrap takes as installed (its stamp matches the lock), whose
    ``sigma-aetl`` records its working directory and arguments instead of serving; returns the record."""
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(sys.executable)
    lock = (ROOT / "requirements" / "runtime.txt").read_bytes() + (ROOT / "pyproject.toml").read_bytes()
    (venv / ".sigma-aetl-installed-runtime").write_text(hashlib.sha256(lock).hexdigest() + "\n")
    record = venv / "called.json"
    script = venv / "bin" / "sigma-aetl"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        f"json.dump({{'cwd': os.getcwd(), 'argv': sys.argv[1:]}}, open({str(record)!r}, 'w'))\n"
    )
    script.chmod(0o755)
    return record


def test_scripts_serve_passes_its_arguments_on(tmp_path: Path) -> None:
    """``scripts/serve --port 9000 ...`` runs ``sigma-aetl serve --port 9000 ...`` in the repository root,
    where contracts/ holds the example contracts."""
    record = installed_venv(tmp_path / "venv")
    env = {**clean_environ(), "SIGMA_AETL_VENV": str(tmp_path / "venv")}
    argv = [str(ROOT / "scripts" / "serve"), "--port", "9000", "--default-contract", "shipment@2"]
    result = subprocess.run(
        argv, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "installing" not in result.stderr  # the stand-in was taken as installed: nothing was installed
    called = json.loads(record.read_text())
    assert called == {
        "cwd": str(ROOT),
        "argv": ["serve", "--port", "9000", "--default-contract", "shipment@2"],
    }
    assert os.path.isfile(ROOT / "contracts" / "shipment" / "v1.py")
