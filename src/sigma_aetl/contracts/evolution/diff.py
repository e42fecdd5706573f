"""What changed between two contract definitions: fields, constraints, rules, identity.

Definitions are the dictionaries :meth:`Contract.definition` returns (and the lock file keeps), so two
versions of different backends compare by meaning (see :mod:`sigma_aetl.contracts.evolution.shape`), and a
released version can be compared with what its file says now.
"""

from dataclasses import dataclass
from typing import Any, Literal

from sigma_aetl.contracts.evolution.shape import FieldSpec, shape_of
from sigma_aetl.core.canonical import canonical_bytes
from sigma_aetl.core.explain import repr_json
from sigma_aetl.core.rules import Rule

Action = Literal["added", "removed", "changed"]
Area = Literal["contract", "field", "rule", "identity", "definition"]
_ABSENT = object()


@dataclass(frozen=True)
class Change:
    """One difference: a field, rule or contract property added, removed, or changed in one aspect."""

    action: Action
    area: Area
    subject: str
    """The field path (``(payload)`` for the payload itself), rule name, or contract property."""
    aspect: str | None = None
    """For a change: what changed — ``type``, ``required``, ``maximum``, ``message``..."""
    before: Any = None
    after: Any = None
    quoted: bool = True
    """Show string values in quotes (free text); False for expressions and type words."""

    def describe(self) -> str:
        """One line: ``changed  field priority: maximum 3 → 5``."""
        what = f"{self.area} {self.subject}" if self.area != "contract" else self.subject
        if self.action == "added":
            return f"added    {what}: {_show(self.after, quoted=False)}"
        if self.action == "removed":
            return f"removed  {what}: {_show(self.before, quoted=False)}"
        aspect = f" {self.aspect}" if self.aspect else ""
        before, after = _show(self.before, self.quoted), _show(self.after, self.quoted)
        return f"changed  {what}:{aspect} {before} → {after}"

    def as_json(self) -> dict[str, Any]:
        """The change as a JSON object, with its one-line ``text``."""
        return {
            "action": self.action,
            "area": self.area,
            "subject": self.subject,
            "aspect": self.aspect,
            "before": None if self.before is _ABSENT else self.before,
            "after": None if self.after is _ABSENT else self.after,
            "text": self.describe(),
        }


def diff_definitions(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Every change from ``old`` to ``new``; falls back to raw locations when nothing meaningful differs."""
    changes = [
        *_contract_changes(old, new),
        *_field_changes(old["schema"], new["schema"]),
        *_rule_changes(old["rules"], new["rules"]),
    ]
    if not changes:
        changes = raw_changes(_meaning(old), _meaning(new))
    return changes


def _meaning(definition: dict[str, Any]) -> dict[str, Any]:
    """The definition without its address: two versions differ by name and version by design."""
    return {key: value for key, value in definition.items() if key not in ("name", "version")}


def _contract_changes(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    changes = []
    for key in ("backend", "description"):
        if old[key] != new[key]:
            changes.append(Change("changed", "contract", key, None, old[key], new[key], key != "backend"))
    if old.get("formats", "assert") != new.get("formats", "assert"):  # only stated when not the default
        before, after = old.get("formats", "assert"), new.get("formats", "assert")
        changes.append(Change("changed", "contract", "formats", None, before, after))
    if old["identity"] != new["identity"]:
        changes.append(Change("changed", "identity", "fields", None, old["identity"], new["identity"]))
    return changes


def _field_changes(old_schema: dict[str, Any], new_schema: dict[str, Any]) -> list[Change]:
    old, new = shape_of(old_schema).fields, shape_of(new_schema).fields
    changes: list[Change] = []
    for path in [*old, *(p for p in new if p not in old)]:
        subject = path or "(payload)"
        if path not in new:
            changes.append(Change("removed", "field", subject, before=old[path].describe()))
        elif path not in old:
            changes.append(Change("added", "field", subject, after=new[path].describe()))
        else:
            changes.extend(_spec_changes(subject, old[path], new[path], annotations=bool(path)))
    return changes


def _spec_changes(subject: str, old: FieldSpec, new: FieldSpec, *, annotations: bool) -> list[Change]:
    changes = []
    if old.required != new.required:
        changes.append(Change("changed", "field", subject, "required", old.required, new.required))
    if old.types != new.types:
        changes.append(Change("changed", "field", subject, "type", _types(old), _types(new), quoted=False))
    if old.closed != new.closed:
        content = (_content(old), _content(new))
        changes.append(Change("changed", "field", subject, "unknown fields", *content, quoted=False))
    changes.extend(_keyed(subject, old.constraints, new.constraints))
    if annotations:
        changes.extend(_keyed(subject, old.annotations, new.annotations))
    return changes


def _keyed(subject: str, old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    changes = []
    for key in [*old, *(k for k in new if k not in old)]:
        before, after = old.get(key, _ABSENT), new.get(key, _ABSENT)
        if not _same(before, after):
            changes.append(Change("changed", "field", subject, key, before, after))
    return changes


def _rule_changes(old_rules: list[dict[str, Any]], new_rules: list[dict[str, Any]]) -> list[Change]:
    old = {rule["name"]: Rule.model_validate(rule) for rule in old_rules}
    new = {rule["name"]: Rule.model_validate(rule) for rule in new_rules}
    changes: list[Change] = []
    for name in [*old, *(n for n in new if n not in old)]:
        if name not in new:
            changes.append(Change("removed", "rule", name, before=old[name].describe()))
        elif name not in old:
            changes.append(Change("added", "rule", name, after=new[name].describe()))
        else:
            changes.extend(_one_rule(name, old[name], new[name]))
    return changes


def _one_rule(name: str, old: Rule, new: Rule) -> list[Change]:
    changes = []
    if old.describe() != new.describe() or not _same(old.value, new.value):
        changes.append(Change("changed", "rule", name, None, old.describe(), new.describe(), quoted=False))
    if old.message != new.message:
        changes.append(Change("changed", "rule", name, "message", old.message, new.message))
    return changes


def raw_changes(old: Any, new: Any, pointer: str = "") -> list[Change]:
    """The JSON locations where two values differ (a last resort: every difference is shown somewhere)."""
    if isinstance(old, dict) and isinstance(new, dict):
        return [
            change
            for key in [*old, *(k for k in new if k not in old)]
            for change in raw_changes(old.get(key, _ABSENT), new.get(key, _ABSENT), f"{pointer}/{key}")
        ]
    if _same(old, new):
        return []
    return [Change("changed", "definition", pointer or "/", None, old, new)]


def _same(left: Any, right: Any) -> bool:
    if left is _ABSENT or right is _ABSENT:
        return left is right
    return canonical_bytes(left) == canonical_bytes(right)


def _types(spec: FieldSpec) -> str:
    return " or ".join(spec.types) if spec.types else "any type"


def _content(spec: FieldSpec) -> str:
    if spec.closed is None:
        return "not an object"
    return "rejected" if spec.closed else "allowed"


def _show(value: Any, quoted: bool) -> str:
    if value is _ABSENT:
        return "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and not quoted:
        return value
    return repr_json(value)
