"""``sigma-aetl init [DIR]``: the package's examples copied out, nothing overwritten unasked, next steps."""

import json
import shutil
from pathlib import Path

import pytest

from cli_support import Cli
from sigma_aetl import examples
from sigma_aetl.stores.sqlite.store import SqliteStore


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (caches aside), by its relative path, with its bytes."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_init_copies_the_examples(cli: Cli, tmp_path: Path) -> None:
    """``init DIR`` creates DIR/contracts (the examples and their lock, byte for byte), DIR/data and the
    sample events."""
    target = tmp_path / "project"
    result = cli.invoke("init", str(target))
    assert result.exit_code == 0, result.output
    assert (target / "data").is_dir()
    assert tree(target / "contracts") == tree(examples.CONTRACTS)
    assert (target / "shipments.jsonl").read_bytes() == examples.SAMPLE_EVENTS.read_bytes()
    assert {"contracts.lock.json", "shipment/v1.py", "shipment/v2.json"} <= set(tree(target / "contracts"))
    assert set(tree(target)) == {
        "shipments.jsonl",
        *(f"contracts/{path}" for path in tree(examples.CONTRACTS)),
    }


def test_init_defaults_to_the_current_directory(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without DIR, init creates everything in the current directory and prints no ``cd``."""
    monkeypatch.chdir(tmp_path)
    result = cli.invoke("init")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "contracts" / "contracts.lock.json").is_file()
    assert "  cd " not in result.stdout


def test_init_copies_every_contract_folder(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever contract folders the package holds are copied, not a fixed list; caches and hidden files
    are not."""
    package = tmp_path / "package"
    shutil.copytree(examples.HERE, package, ignore=shutil.ignore_patterns("__pycache__"))
    order = package / "contracts" / "parcel"
    order.mkdir()
    document = json.loads((package / "contracts" / "shipment" / "v2.json").read_text())
    (order / "v1.json").write_text(json.dumps({**document, "name": "parcel", "version": 1}))
    (order / "__pycache__").mkdir()
    (order / "__pycache__" / "v1.cpython-311.pyc").write_bytes(b"")
    (order / ".v1.json.swp").write_bytes(b"")
    monkeypatch.setattr(examples, "HERE", package)
    monkeypatch.setattr(examples, "CONTRACTS", package / "contracts")
    monkeypatch.setattr(examples, "SAMPLE_EVENTS", package / "shipments.jsonl")
    result = cli.invoke("init", str(tmp_path / "project"))
    assert result.exit_code == 0, result.output
    copied = tree(tmp_path / "project" / "contracts")
    assert set(copied) == {
        "contracts.lock.json",
        "order/v1.py",
        "parcel/v1.json",
        "shipment/v1.py",
        "shipment/v2.json",
        "shipment_compat/v1.py",
    }
    assert copied["parcel/v1.json"] == (order / "v1.json").read_bytes()
    assert "parcel@1 (draft)" in result.stdout


def test_init_refuses_to_overwrite_and_names_the_files(cli: Cli, tmp_path: Path) -> None:
    """An example file that exists already stops init (exit 2) before anything is written, naming each."""
    target = tmp_path / "project"
    (target / "contracts" / "shipment").mkdir(parents=True)
    (target / "contracts" / "shipment" / "v1.py").write_text("mine\n")
    (target / "shipments.jsonl").write_text("mine\n")
    result = cli.invoke("init", str(target))
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert "shipments.jsonl, contracts/shipment/v1.py; nothing was written" in message
    assert "--force" in message
    assert (target / "contracts" / "shipment" / "v1.py").read_text() == "mine\n"
    assert set(tree(target)) == {"contracts/shipment/v1.py", "shipments.jsonl"}
    assert not (target / "data").exists()


def test_init_force_overwrites_the_examples_only(cli: Cli, tmp_path: Path) -> None:
    """``--force`` puts the examples back over edited copies and leaves every other file alone."""
    target = tmp_path / "project"
    assert cli.invoke("init", str(target)).exit_code == 0
    (target / "contracts" / "shipment" / "v1.py").write_text("edited\n")
    (target / "notes.txt").write_text("mine\n")
    result = cli.invoke("init", str(target), "--force")
    assert result.exit_code == 0, result.output
    assert tree(target / "contracts") == tree(examples.CONTRACTS)
    assert (target / "notes.txt").read_text() == "mine\n"


def test_init_force_never_unreleases(cli: Cli, tmp_path: Path) -> None:
    """A lock recording a release the examples lack is not replaced, even with --force."""
    target = tmp_path / "project"
    assert cli.invoke("init", str(target)).exit_code == 0
    lock = target / "contracts" / "contracts.lock.json"
    document = json.loads(lock.read_text())
    document["released"].append({**document["released"][0], "contract": "order", "source": "order/v1.py"})
    lock.write_text(json.dumps(document))
    before = tree(target)
    result = cli.invoke("init", str(target), "--force")
    assert result.exit_code == 2
    assert "records releases the examples do not (order@1)" in " ".join(result.stderr.split())
    assert tree(target) == before


def test_init_into_a_file_is_an_error(cli: Cli, tmp_path: Path) -> None:
    """A DIR that is a file is a one-line error with exit code 2."""
    (tmp_path / "file").write_text("")
    result = cli.invoke("init", str(tmp_path / "file"))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")


def test_the_next_steps_work(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The printed next steps name serve, the sample ingest and the id of the record the first sample
    event becomes — the id ingesting the samples really stores."""
    target = tmp_path / "project"
    result = cli.invoke("init", str(target))
    assert result.exit_code == 0, result.output
    steps = result.stdout
    assert f"  cd {target}\n" in steps
    assert "  sigma-aetl serve\n" in steps
    assert "  sigma-aetl ingest shipment@1 shipments.jsonl\n" in steps
    [record_url] = [line.split()[-1] for line in steps.splitlines() if "/v1/records/" in line]
    record_id = record_url.rsplit("/", 1)[1]
    first_event = examples.SAMPLE_EVENTS.read_text().splitlines()[0]
    assert f"-d '{first_event}'" in steps
    monkeypatch.chdir(target)
    summary = cli.invoke("ingest", "shipment@1", "shipments.jsonl", "--json")
    assert summary.exit_code == 0, summary.output
    assert json.loads(summary.stdout)["failed"] == 3
    store = SqliteStore(target / "data" / "sigma-aetl.db", writer="inline")
    try:
        record = store.get_record(record_id)
    finally:
        store.close()
    assert record is not None
    assert record.data["shipment_id"] == json.loads(first_event)["shipment_id"]
