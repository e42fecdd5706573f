"""Scaffold the next draft version of a contract from its latest: ``sigma-aetl contracts new-version``.

The new file sits beside the latest one, in the same format (``v3.py`` from ``v2.py``, ``v3.json`` from
``v2.json``), with the same content except its version (and, for Python, a docstring saying it is a draft).
It is created exclusively — an existing file is never overwritten and no other file is touched — and it
must load before the command reports success.
"""

import ast
import itertools
import json
import re
from dataclasses import dataclass
from pathlib import Path

from sigma_aetl.contracts.loader import load_file
from sigma_aetl.contracts.lock import ReleaseState
from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core.contract import Contract
from sigma_aetl.errors import ContractError, ContractLoadError, ContractNotFound


@dataclass(frozen=True)
class Scaffold:
    """What ``new-version`` created."""

    ref: str
    path: Path
    source: str
    """The new file, relative to the contracts directory."""
    origin: str
    origin_state: ReleaseState


def new_version(registry: Registry, name: str, directory: Path) -> Scaffold:
    """Create ``name@N+1`` from the latest version ``name@N``; raises ContractError."""
    latest = registry.latest(name)
    if latest is None:
        raise ContractNotFound(f"no contract is named {name!r}; nothing to scaffold from")
    source = directory / latest.source
    version = latest.version + 1
    target = source.with_name(f"v{version}{source.suffix}")
    taken = sorted(p.name for p in source.parent.glob(f"v{version}.*"))
    if taken:
        raise ContractError(f"{source.parent / taken[0]} already exists; {name}@{version} is not free")
    text = source.read_text(encoding="utf-8")
    body = _json(text, version) if source.suffix == ".json" else _python(text, latest, version)
    _create(target, body, directory, f"{name}@{version}")
    relative = target.relative_to(directory).as_posix()
    return Scaffold(f"{name}@{version}", target, relative, latest.ref, registry.state(latest))


def _create(target: Path, body: str, directory: Path, ref: str) -> None:
    """Write ``target`` exclusively, and remove it again unless it loads as ``ref``."""
    with target.open("x", encoding="utf-8") as out:
        out.write(body)
    try:
        loaded = load_file(target, directory)
        if loaded.ref != ref:
            raise ContractLoadError(f"{target}: declares {loaded.ref}, not {ref}")
    except BaseException:
        target.unlink()
        raise


def _json(text: str, version: int) -> str:
    """Change the top-level ``"version"`` member in place, keeping the author's formatting."""
    span = _top_level_value(text, "version")
    if span is None:
        document = json.loads(text)  # no such member to edit in place: rewrite the whole document
        return json.dumps({**document, "version": version}, indent=2, ensure_ascii=False) + "\n"
    return text[: span[0]] + str(version) + text[span[1] :]


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]]|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?')


def _top_level_value(text: str, key: str) -> tuple[int, int] | None:
    """Where the value of the top-level member ``key`` is, when that value is a number."""
    depth, tokens = 0, list(_TOKEN.finditer(text))
    for token, after in itertools.pairwise(tokens):
        lexeme = token.group()
        depth += {"{": 1, "[": 1, "}": -1, "]": -1}.get(lexeme, 0)
        if depth == 1 and lexeme == json.dumps(key) and after.group()[0] in "-0123456789":
            return after.span()
    return None


def _python(text: str, latest: Contract, version: int) -> str:
    """Change ``version=N`` in the ``pydantic_contract(...)`` call, and the module docstring."""
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    keyword = _version_keyword(tree, latest)
    line = lines[keyword.lineno - 1].encode("utf-8")  # ast offsets count UTF-8 bytes
    edited = line[: keyword.col_offset] + str(version).encode() + line[keyword.end_col_offset or 0 :]
    lines[keyword.lineno - 1] = edited.decode("utf-8")
    docstring = _docstring(tree)
    ref = f"{latest.name}@{version}"
    heading = (
        f'"""{ref} — a draft, scaffolded from {latest.ref}.\n\n'
        "Edit it, compare it (sigma-aetl contracts diff / check / try), then release it:\n"
        f'sigma-aetl contracts lock {ref}\n"""\n'
    )
    if docstring is None:
        return heading + "".join(lines)
    return "".join([*lines[: docstring.lineno - 1], heading, *lines[docstring.end_lineno or 0 :]])


def _version_keyword(tree: ast.Module, latest: Contract) -> ast.expr:
    found = [
        keyword.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and _called(node) == "pydantic_contract"
        for keyword in node.keywords
        if keyword.arg == "version"
        and isinstance(keyword.value, ast.Constant)
        and keyword.value.value == latest.version
    ]
    if len(found) != 1:
        raise ContractError(
            f"{latest.source}: cannot find one pydantic_contract(..., version={latest.version}) to change; "
            "copy the file by hand"
        )
    return found[0]


def _called(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _docstring(tree: ast.Module) -> ast.Expr | None:
    first = tree.body[0] if tree.body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
        return first if isinstance(first.value.value, str) else None
    return None
