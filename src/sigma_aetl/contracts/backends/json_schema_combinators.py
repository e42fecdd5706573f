"""Explanations for the keywords that judge a value by other schemas: anyOf, oneOf, not, contains,
if/then/else, dependentSchemas and dependentRequired — what was required, in words, and what arrived.

jsonschema-rs' own messages read as the opposite of the rule (``none of ["a"] are valid under the given
schema`` for a failed ``contains``) or print the compiled subschema. Here::

    kind: expected any of (1) a string (at least 3 character(s)), (2) an integer (>= 10), received "ab"
      (a string). Nearest: (1) kind: expected at least 3 character(s); (2) kind: expected an integer.
    code: expected a value that is not one of "x", received "x" (a string).
    tags: expected an array with at least 2 item(s) that are an integer (>= 5), received [1,6] (an array).
    a: required, but the field is missing. Required because the payload meets the if condition (...).

Branches are listed best match first: the ones the value's type fits, then by how few errors they have.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from sigma_aetl.contracts.backends.json_schema_walk import pointer
from sigma_aetl.contracts.backends.json_schema_words import describe
from sigma_aetl.core.decision import FieldError
from sigma_aetl.core.explain import format_path, show
from sigma_aetl.core.rule_kinds import resolve_ref
from sigma_aetl.core.taxonomy import RootCause

_BRIEF_ERRORS = 2


def alternatives(keyword: str, node: Mapping[str, Any], location: str, root: Mapping[str, Any]) -> str:
    """What an ``anyOf``/``oneOf`` asks for: ``any of (1) a string, (2) an integer``."""
    branches = node.get(keyword) or []
    listed = ", ".join(
        f"({rank}) {describe(root, branch, f'{location}/{keyword}/{rank - 1}')}"
        for rank, branch in enumerate(branches, start=1)
    )
    return f"{'any' if keyword == 'anyOf' else 'exactly one'} of {listed}"


def defined(branches: Any, root: Mapping[str, Any]) -> set[str]:
    """The field names the branches of a combinator define (through a ``$ref`` too)."""
    names: set[str] = set()
    for branch in branches if isinstance(branches, list) else []:
        target = resolve_ref(root, branch) if isinstance(branch, Mapping) else {}
        names.update(target.get("properties") or {})
    return names


def nearest(branches: Sequence[Sequence[FieldError]], loc: Sequence[str | int]) -> str:
    """Each failed branch's first errors, best match first: ``(2) n: expected an integer``."""
    failed = [(rank, errors) for rank, errors in enumerate(branches, start=1) if errors]
    failed.sort(key=lambda item: (_mistyped_here(item[1], loc), len(item[1]), item[0]))
    return "; ".join(f"({rank}) " + ", ".join(map(brief, errors[:_BRIEF_ERRORS])) for rank, errors in failed)


def mistyped(branches: Sequence[Sequence[FieldError]], loc: Sequence[str | int]) -> bool:
    """Whether the value's JSON type fits no branch at all: then it is a type mismatch."""
    return bool(branches) and all(_mistyped_here(errors, loc) for errors in branches)


def _mistyped_here(errors: Sequence[FieldError], loc: Sequence[str | int]) -> bool:
    return any(e.root_cause is RootCause.TYPE_MISMATCH and e.loc == tuple(loc) for e in errors)


def brief(error: FieldError) -> str:
    """One error in a few words: ``box.id is missing``, ``n: expected an integer``."""
    where = error.path or "the payload"
    if error.root_cause is RootCause.MISSING_FIELD:
        return f"{where} is missing"
    if error.root_cause is RootCause.UNEXPECTED_FIELD:
        return f"{where} is not allowed"
    return f"{where}: expected {error.constraint}"


def alternatives_explanation(
    where: str,
    expected: str,
    received: Any,
    branches: Sequence[Sequence[FieldError]],
    loc: Sequence[str | int],
) -> str:
    """``kind: expected any of ..., received "ab" (a string). Nearest: (1) ...``."""
    found = nearest(branches, loc)
    return f"{where}: expected {expected}, received {show(received)}." + (
        f" Nearest: {found}." if found else ""
    )


def several_valid(where: str, expected: str, received: Any, branches: Sequence[Sequence[FieldError]]) -> str:
    """A ``oneOf`` that more than one branch accepts: which ones."""
    valid = [f"({rank})" for rank, errors in enumerate(branches, start=1) if not errors]
    return f"{where}: expected {expected}, received {show(received)}, which matches {' and '.join(valid)}."


def negation(node: Mapping[str, Any], location: str, root: Mapping[str, Any]) -> str:
    """What a ``not`` asks for: ``a value that is not an integer``."""
    return f"a value that is not {describe(root, node.get('not'), location + '/not')}"


def containing(node: Mapping[str, Any], location: str, root: Mapping[str, Any], bound: str) -> str:
    """What ``contains`` (with ``minContains``/``maxContains``) asks for, in words."""
    what = describe(root, node.get("contains"), location + "/contains")
    if bound == "maxContains":
        return f"an array with at most {node.get('maxContains')} item(s) that are {what}"
    least = node.get("minContains", 1) if bound == "minContains" else 1
    return f"an array with at least {least} item(s) that are {what}"


def because(
    path: Sequence[str | int],
    trail: Sequence[Any],
    instance: Any,
    at_loc: tuple[Sequence[str | int], int],
    root: Mapping[str, Any],
) -> str | None:
    """Why a conditional requirement applies (``then``, ``else``, ``dependentSchemas``,
    ``dependentRequired``), from the error's evaluation path and the schema before each of its steps:
    ``It applies because the payload has the field card (dependentSchemas).`` ``at_loc`` is the error's
    location in the payload and how many of its steps precede the validated value."""
    for at in range(len(path) - 1, -1, -1):
        step, node = path[at], trail[at]
        if not isinstance(node, Mapping) or step not in CONDITIONAL:
            continue
        loc, base = at_loc
        where = format_path(loc[: base + _depth(path[:at])]) or "the payload"
        if step in ("then", "else"):
            meets = "meets" if step == "then" else "does not meet"
            condition = describe(root, node.get("if"), pointer(*path[:at], "if"))
            return f"It applies because {where} {meets} the if condition ({condition})."
        if step == "dependentSchemas" and at + 1 < len(path):
            return f"It applies because {where} has the field {path[at + 1]} (dependentSchemas)."
        dependent = node.get("dependentRequired") or {}
        triggers = [key for key in dependent if isinstance(instance, Mapping) and key in instance]
        if triggers:
            return f"It applies because {where} has the field {triggers[0]} (dependentRequired)."
    return None


CONDITIONAL = frozenset({"then", "else", "dependentSchemas", "dependentRequired"})
"""The keywords whose requirements apply on a condition: an error under one says why it applies."""
_INTO_KEYED = frozenset({"properties", "patternProperties", "prefixItems"})
_INTO = frozenset({"items", "additionalProperties", "unevaluatedProperties", "unevaluatedItems", "contains"})
_KEYED = frozenset({"allOf", "anyOf", "oneOf", "dependentSchemas"})


def _depth(path: Sequence[str | int]) -> int:
    """How many steps into the value an evaluation path has gone (``properties/box/allOf/0`` → 1)."""
    depth, at = 0, 0
    while at < len(path):
        step = path[at]
        depth += step in _INTO_KEYED or step in _INTO
        at += 2 if step in _INTO_KEYED or step in _KEYED else 1
    return depth
