"""Compatibility between two versions of a contract, in the schema-registry sense (Confluent's modes).

- **backward**: every event valid under the old version is valid under the new one. Producers still
  sending old-shaped events keep passing once the new version replaces the old.
- **forward**: every event valid under the new version is valid under the old one. Anything still
  checking against the old version (a consumer, a pinned validator) accepts the new events.
- **full**: both.

Each direction compares a *writer* (whose events exist) with a *reader* (that must accept them), field by
field (:mod:`sigma_aetl.contracts.evolution.shape`) and rule by rule, and explains every breaking change
in one line.
The schema analysis is conservative; jsonschema-rs' containment check backs it: a change the analysis cannot
decide (a new pattern, an ``anyOf``...) is dropped when the reader's schema provably accepts everything the
writer's does, and a "not contained" verdict is reported even when no single field explains it.
"""

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import jsonschema_rs

from sigma_aetl.contracts.evolution.constraints import tighter_constraints
from sigma_aetl.contracts.evolution.shape import FieldSpec, Shape, iter_types, shape_of
from sigma_aetl.core.rules import Rule, json_equal


class Mode(StrEnum):
    """Which direction(s) must hold."""

    BACKWARD = "backward"
    FORWARD = "forward"
    FULL = "full"


@dataclass(frozen=True)
class Problem:
    """One breaking change, in the direction that it breaks."""

    direction: str
    """``backward``, ``forward``, or ``both`` (identity)."""
    kind: str
    """``new_required_field``, ``removed_field_closed_model``, ``type_narrowed``, ``rule_added``..."""
    subject: str
    """The field path, ``rule NAME``, or ``identity``."""
    explanation: str
    provable: bool = False
    """Undecided by the field analysis; dropped when jsonschema-rs proves the schemas contained."""

    def as_json(self) -> dict[str, str]:
        """The problem as a JSON object."""
        return {
            "direction": self.direction,
            "kind": self.kind,
            "subject": self.subject,
            "explanation": self.explanation,
        }


@dataclass(frozen=True)
class Report:
    """The verdict of one check: every breaking change, none when compatible."""

    old: str
    new: str
    mode: Mode
    problems: tuple[Problem, ...]

    @property
    def compatible(self) -> bool:
        """No breaking change in the mode's direction(s)."""
        return not self.problems

    def as_json(self) -> dict[str, Any]:
        """The report as a JSON object."""
        return {
            "old": self.old,
            "new": self.new,
            "mode": self.mode.value,
            "compatible": self.compatible,
            "problems": [problem.as_json() for problem in self.problems],
        }


@dataclass(frozen=True)
class _Side:
    ref: str
    shape: Shape
    rules: dict[str, Rule]
    schema: dict[str, Any]
    formats: str = "assert"

    @classmethod
    def of(cls, definition: dict[str, Any]) -> "_Side":
        rules = {rule["name"]: Rule.model_validate(rule) for rule in definition["rules"]}
        ref = f"{definition['name']}@{definition['version']}"
        formats = definition.get("formats", "assert")
        return cls(ref, shape_of(definition["schema"]), rules, definition["schema"], formats)


def check(old: dict[str, Any], new: dict[str, Any], mode: Mode) -> Report:
    """Check two contract definitions (:meth:`Contract.definition`) in ``mode``."""
    before, after = _Side.of(old), _Side.of(new)
    problems = []
    if mode in (Mode.BACKWARD, Mode.FULL):
        problems.extend(breaking(before, after, Mode.BACKWARD.value))
    if mode in (Mode.FORWARD, Mode.FULL):
        problems.extend(breaking(after, before, Mode.FORWARD.value))
    problems.extend(_identity(old, new))
    return Report(before.ref, after.ref, mode, tuple(problems))


def breaking(writer: _Side, reader: _Side, direction: str) -> list[Problem]:
    """Every reason an event valid under ``writer`` could fail under ``reader``."""
    found = [*_removed(writer, reader), *_added(writer, reader), *_changed(writer, reader)]
    found = _with_containment(found, writer, reader)
    found.extend(_rules(writer, reader))
    found.extend(_formats(writer, reader))
    return [Problem(direction, p.kind, p.subject, p.explanation, p.provable) for p in found]


def _removed(writer: _Side, reader: _Side) -> Iterator[Problem]:
    """Fields the writer defines and a closed reader object does not: events carrying them fail."""
    for path in writer.shape.fields:
        parent = reader.shape.parent(path)
        if path and path not in reader.shape.fields and not path.endswith("[]") and parent and parent.closed:
            text = f"defined by {writer.ref} but not by {reader.ref}, which rejects unknown fields"
            yield _problem(
                "removed_field_closed_model", path, f"{text}; {writer.ref} events carrying it fail."
            )


def _added(writer: _Side, reader: _Side) -> Iterator[Problem]:
    """Fields only the reader defines: required ones are missing from writer events; optional ones may
    hold anything when the writer's object was open."""
    for path, spec in reader.shape.fields.items():
        parent = writer.shape.parent(path)
        if path in writer.shape.fields or parent is None:
            continue
        if spec.required:
            text = f"required by {reader.ref} but not defined by {writer.ref}; {writer.ref} events lack it."
            yield _problem("new_required_field", path, text)
        elif parent.closed is False and (spec.types or spec.constraints):
            expects = spec.describe().removeprefix("optional ")
            text = f"{reader.ref} expects {expects}; {writer.ref} accepted any value under that name."
            yield _problem("field_in_open_model", path, text, provable=True)


def _changed(writer: _Side, reader: _Side) -> Iterator[Problem]:
    for path, new in reader.shape.fields.items():
        old = writer.shape.fields.get(path)
        if old is not None:
            yield from _field(path, old, new, writer.ref, reader.ref)


def _field(path: str, old: FieldSpec, new: FieldSpec, writer: str, reader: str) -> Iterator[Problem]:
    """A field both define: required now, fewer types, closed now, or tighter constraints."""
    if new.required and not old.required:
        text = f"required by {reader} but optional in {writer}; {writer} events may lack it."
        yield _problem("field_became_required", path, text)
    dropped = sorted(set(iter_types(old)) - set(iter_types(new)))
    if new.types and (dropped or not old.types):
        accepted = ", ".join(dropped) if old.types else "any type"
        text = f"{reader} accepts {' or '.join(new.types)} only; {writer} also accepted {accepted}."
        yield _problem("type_narrowed", path, text)
    if new.closed and old.closed is False:
        yield _problem(
            "content_model_closed", path, f"{reader} rejects unknown fields; {writer} accepted them."
        )
    for kind, words, provable in tighter_constraints(old.constraints, new.constraints):
        yield _problem(kind, path, f"{reader} requires {words}; {writer} did not.", provable=provable)


def _with_containment(found: list[Problem], writer: _Side, reader: _Side) -> list[Problem]:
    verdict = contained(writer.schema, reader.schema)
    if verdict == "yes":
        return [problem for problem in found if not problem.provable]
    if not found:
        return [
            _problem(
                "schema_not_contained",
                "",
                f"{reader.ref}'s schema is not proven to accept every event {writer.ref}'s accepts "
                f"(jsonschema-rs containment check: {verdict}); review the schema change.",
            )
        ]
    return found


def contained(writer_schema: dict[str, Any], reader_schema: dict[str, Any]) -> str:
    """``yes`` when the reader schema provably accepts every value the writer schema accepts; else
    ``no`` or ``unknown`` (JSON Schema semantics, by jsonschema-rs' canonical forms)."""
    try:
        reader = jsonschema_rs.canonicalize(reader_schema)
        writer = jsonschema_rs.canonicalize(writer_schema)
        return str(reader.covers(writer))
    except ValueError:  # jsonschema-rs' errors: a schema its canonical form cannot take decides nothing
        return "unknown"


def _rules(writer: _Side, reader: _Side) -> list[Problem]:
    found = []
    for name, rule in reader.rules.items():
        old = writer.rules.get(name)
        subject = f"rule {name}"
        if old is None:
            text = f"new in {reader.ref} ({rule.describe()}); {writer.ref} events may break it."
            found.append(_problem("rule_added", subject, text))
        elif not rule_accepts_all(old, rule):
            kind = "rule_tightened" if _comparable(old, rule) else "rule_changed"
            text = f"{reader.ref} requires {rule.describe()}, {writer.ref} only {old.describe()}."
            found.append(_problem(kind, subject, text))
    return found


def rule_accepts_all(old: Rule, new: Rule) -> bool:
    """Whether every value ``old`` lets through also passes ``new`` (same field, same kind of test)."""
    if (old.field, old.other_field) != (new.field, new.other_field):
        return False
    if old.op == new.op and json_equal(old.value, new.value):
        return True
    if not _comparable(old, new):
        return False
    if new.op in ("in", "not_in"):
        wide, narrow = (new.value, old.value) if new.op == "in" else (old.value, new.value)
        return all(any(json_equal(v, w) for w in wide) for v in narrow)
    upper = new.op in ("le", "lt")
    if new.value == old.value:
        return not (new.op in ("lt", "gt") and old.op in ("le", "ge"))
    return bool(new.value > old.value) if upper else bool(new.value < old.value)


def _comparable(old: Rule, new: Rule) -> bool:
    groups = ({"le", "lt"}, {"ge", "gt"}, {"in"}, {"not_in"})
    same_group = any(old.op in group and new.op in group for group in groups)
    same_operands = (old.field, old.other_field) == (new.field, new.other_field)
    if not same_group or not same_operands or old.other_field is not None:
        return False
    if new.op in ("in", "not_in"):
        return True
    return _ordered(old.value, new.value)


def _ordered(left: Any, right: Any) -> bool:
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (left, right))
    strings = isinstance(left, str) and isinstance(right, str)
    return (numbers and all(math.isfinite(v) for v in (left, right))) or strings


def _formats(writer: _Side, reader: _Side) -> list[Problem]:
    """A reader asserting the formats a writer only annotated rejects the values that do not match."""
    if (
        writer.formats == reader.formats
        or reader.formats != "assert"
        or '"format"' not in json.dumps(reader.schema)
    ):
        return []
    text = (
        "formats were annotations (formats: annotate) and are now asserted: a value not in its format fails"
    )
    return [_problem("formats_asserted", "formats", text)]


def _identity(old: dict[str, Any], new: dict[str, Any]) -> list[Problem]:
    if old["identity"] == new["identity"]:
        return []
    before = ", ".join(old["identity"]) or "the whole record"
    after = ", ".join(new["identity"]) or "the whole record"
    text = (
        f"identity: records were identified by {before}, now by {after}: the same event gets another "
        "identity, so duplicates and identity conflicts are no longer detected the same way."
    )
    return [Problem("both", "identity_changed", "identity", text)]


def _problem(kind: str, subject: str, text: str, *, provable: bool = False) -> Problem:
    label = subject or "(payload)"
    return Problem("", kind, label, f"{label}: {text}", provable)
