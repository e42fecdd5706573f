"""A contract version: its schema, identity, business rules and fingerprint."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from sigma_aetl.core.canonical import canonical_bytes, sha256_hex
from sigma_aetl.core.decision import FieldError
from sigma_aetl.core.rule_kinds import Kind, branches, field_kinds, field_node, rule_problems
from sigma_aetl.core.rules import Rule
from sigma_aetl.core.sensitive import sensitive_paths
from sigma_aetl.errors import ContractLoadError

UnknownFields = Literal["forbid", "ignore"]
"""A contract's policy for undeclared top-level fields (see :attr:`Contract.unknown_fields`)."""

SchemaCheck = Callable[[str, Any], list[FieldError]]
"""A backend's schema stage: the payload's JSON text and its parsed value (known to be a JSON object) →
every error. A backend reads whichever suits it and never changes the value."""


@dataclass(frozen=True)
class Contract:
    """One immutable version of a data contract, addressed as ``name@version``."""

    name: str
    version: int
    backend: str
    description: str
    identity: tuple[str, ...]
    rules: tuple[Rule, ...]
    allow_extra: bool
    json_schema: dict[str, Any]
    check: SchemaCheck = field(compare=False, repr=False)
    source: str = field(default="", compare=False)
    formats: Literal["assert", "annotate"] = "assert"
    """Whether ``format`` is checked (the default) or only describes (JSON Schema contracts may say so)."""
    unknown_fields: UnknownFields = "forbid"
    """What a top-level field the schema does not declare does: fail the event (``forbid``, the default) or
    be left out of the record and named in the answer (``ignore``, for clients of the original API)."""
    sensitive: frozenset[str] = field(init=False, compare=False, repr=False)
    """Field paths the schema marks ``"x-sensitive": true`` (see sensitive.py): never sent to the advisor."""
    fingerprint: str = field(init=False)
    rule_kinds: dict[str, Kind] = field(init=False, compare=False, repr=False)
    """The fields rules read that are instants, dates or decimals (from the schema; see rule_kinds.py)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "sensitive", sensitive_paths(self.json_schema))
        object.__setattr__(self, "fingerprint", "sha256:" + sha256_hex(canonical_bytes(self.definition())))
        paths = [path for rule in self.rules for path in rule.fields()]
        object.__setattr__(self, "rule_kinds", field_kinds(self.json_schema, paths))
        problems = _identity_problems(self.json_schema, self.identity)
        problems += [problem for rule in self.rules for problem in rule_problems(self.json_schema, rule)]
        if self.unknown_fields == "ignore" and self.allow_extra:
            problems.append("unknown_fields ignore needs a closed schema: an open one already keeps them")
        if problems:
            raise ContractLoadError(f"{self.ref}: " + "; ".join(problems))

    @property
    def ref(self) -> str:
        """``name@version``."""
        return f"{self.name}@{self.version}"

    def definition(self) -> dict[str, Any]:
        """The canonical definition the fingerprint hashes: everything that gives the contract its meaning."""
        return {
            "name": self.name,
            "version": self.version,
            "backend": self.backend,
            "description": self.description,
            "identity": list(self.identity),
            "allow_extra": self.allow_extra,
            "rules": [rule.model_dump(mode="json") for rule in self.rules],
            "schema": self.json_schema,
            # only when set: the definitions (and fingerprints) of contracts that do not say stay as they were
            **({"formats": self.formats} if self.formats != "assert" else {}),
            **({"unknown_fields": self.unknown_fields} if self.unknown_fields != "forbid" else {}),
            **({"sensitive": sorted(self.sensitive)} if self.sensitive else {}),
        }


def _identity_problems(schema: dict[str, Any], identity: tuple[str, ...]) -> list[str]:
    """Why each identity field cannot name a record: it may be absent, or null. A field is required when
    the root or a part that always applies to it (an ``allOf`` part, a ``$ref``) requires it."""
    required = {name for part in branches(schema, schema, always=True) for name in part.get("required") or []}
    problems = []
    for name in identity:
        if name not in required:
            problems.append(f"identity field {name} is optional; a record's identity must always be there")
        elif _nullable(field_node(schema, (name,)) or {}):
            problems.append(f"identity field {name} may be null; a record's identity must have a value")
    return problems


def _nullable(node: Any) -> bool:
    if not isinstance(node, dict):
        return False
    kinds = node.get("type")
    if kinds == "null" or (isinstance(kinds, list) and "null" in kinds):
        return True
    return any(_nullable(branch) for key in ("anyOf", "oneOf") for branch in node.get(key, []))
