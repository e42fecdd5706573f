"""Declarative, deterministic business rules.

A rule compares one field with a constant (``weight_kg <= 1000``) or with another field
(``delivered_at >= shipped_at``). Rules are data, not code, so they are part of a contract's fingerprint
and can be diffed and checked for compatibility. A rule is evaluated only when its fields are present and
passed the schema stage: a rule never reports on a value the schema already rejected. A field is a path
(:mod:`sigma_aetl.core.paths`): ``customer.country``, or ``items[*].quantity`` for every element.
"""

import functools
import operator
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails

from sigma_aetl.core.decision import LocPart
from sigma_aetl.core.explain import repr_json
from sigma_aetl.core.paths import EVERY, Step, locate, parse_path
from sigma_aetl.core.rule_kinds import UNCOMPARABLE, typed

Op = Literal["lt", "le", "gt", "ge", "eq", "ne", "in", "not_in"]

SYMBOLS: dict[str, str] = {
    "lt": "<",
    "le": "<=",
    "gt": ">",
    "ge": ">=",
    "eq": "==",
    "ne": "!=",
    "in": "in",
    "not_in": "not in",
}


def json_equal(left: Any, right: Any) -> bool:
    """Equality of JSON values: ``true`` is not ``1`` (as it is in Python), and ``1`` equals ``1.0``."""
    if isinstance(left, bool) or isinstance(right, bool):
        return left is right
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(json_equal, left, right))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(json_equal(left[key], right[key]) for key in left)
    return bool(left == right)


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
    "eq": json_equal,
    "ne": lambda a, b: not json_equal(a, b),
    "in": lambda a, b: any(json_equal(a, item) for item in b),
    "not_in": lambda a, b: not any(json_equal(a, item) for item in b),
}

_TYPED: dict[str, Callable[[Any, Any], Any]] = {
    **{op: _COMPARE[op] for op in ("lt", "le", "gt", "ge")},
    "eq": operator.eq,
    "ne": operator.ne,
    "in": lambda a, b: a in b,
    "not_in": lambda a, b: a not in b,
}
"""Comparisons of typed values (datetimes, dates), where Python's own equality is the right one."""

_MISSING = object()
_UNORDERED = frozenset({"in", "not_in", "eq", "ne"})
_SAME_KIND = frozenset({(int, int), (float, float), (int, float), (float, int), (str, str)})
"""Exact type pairs that order with each other (bool, a subclass of int, is never among them)."""


class Rule(BaseModel):
    """One business rule: ``field <op> value`` or ``field <op> other_field``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="Stable name of the rule.", examples=["max_weight"])
    field: str = Field(
        description="Path of the field it checks: `weight_kg`, `customer.country`, `items[*].quantity`.",
        examples=["weight_kg"],
    )
    op: Op = Field(description="Comparison operator.", examples=["le"])
    value: Any = Field(default=None, description="Constant to compare with (or a list for in/not_in).")
    other_field: str | None = Field(default=None, description="Field to compare with, instead of a value.")
    message: str = Field(description="Why the rule exists, shown on violation.")

    @model_validator(mode="wrap")
    @classmethod
    def _in_words(cls, data: Any, handler: Callable[[Any], "Rule"]) -> "Rule":
        """Every mistake in one line of words (see :func:`load_problem`), not Pydantic's report."""
        try:
            return handler(data)
        except ValidationError as exc:
            raise ValueError(
                "; ".join(problem_words(e, "rule") for e in exc.errors(include_url=False))
            ) from None

    @field_validator("value", mode="before")
    @classmethod
    def _json_number(cls, value: Any) -> Any:
        """A Decimal constant (a Python contract's ``Decimal("1000.10")``) is the JSON number it states."""
        if isinstance(value, list):
            return [_as_number(item) for item in value]
        return _as_number(value)

    @model_validator(mode="after")
    def _one_operand(self) -> "Rule":
        if (self.value is None) == (self.other_field is None):
            raise ValueError("a rule compares with exactly one of `value` or `other_field`")
        if self.op in ("in", "not_in") and not isinstance(self.value, list):
            raise ValueError("`in`/`not_in` rules take a list `value`")
        steps(self.field)
        if self.other_field is not None and EVERY in steps(self.other_field):
            raise ValueError("`other_field` names one field; [*] may appear in `field` only")
        return self

    def describe(self) -> str:
        """The rule as a one-line expression, e.g. ``weight_kg <= 1000``."""
        right = self.other_field if self.other_field is not None else repr_json(self.value)
        return f"{self.field} {SYMBOLS[self.op]} {right}"

    def fields(self) -> tuple[str, ...]:
        """Every field the rule reads."""
        return (self.field,) if self.other_field is None else (self.field, self.other_field)

    def violations(
        self, data: Mapping[str, Any], kinds: Mapping[str, Any] | None = None
    ) -> Sequence[tuple[tuple[LocPart, ...], Any]]:
        """Each location where the rule does not hold, with the value found there: one at most for a
        plain path, one per failing element for ``items[*].quantity``."""
        kind = kinds.get(self.field) if kinds else None
        if self.other_field is None:
            right = self.value
        else:
            right = _lookup_steps(data, steps(self.other_field))
            if right is _MISSING:
                return ()
        path = steps(self.field)
        if EVERY not in path:  # the hot case: no generator, no list unless the rule breaks
            left = _lookup_steps(data, path)
            if left is _MISSING or self._decide(left, right, kind) is not False:
                return ()
            return ((path, left),)  # type: ignore[return-value]  # no EVERY step: every step is a name
        return [(loc, left) for loc, left in locate(data, path) if self._decide(left, right, kind) is False]

    def holds(self, data: Mapping[str, Any], kinds: Mapping[str, Any] | None = None) -> bool | None:
        """True/False when the rule applies to ``data``; None when a field it reads is absent or null.

        A null is "no value", like an absent field, so the rule does not apply — unless the rule names
        null itself (``in``/``not_in`` with ``null`` among its values). ``kinds`` maps field paths to
        ``"instant"`` or ``"date"`` (:mod:`sigma_aetl.core.rule_kinds`): those values compare as what they
        mean, not as text.
        """
        left = lookup(data, self.field)
        right = self.value if self.other_field is None else lookup(data, self.other_field)
        if left is _MISSING or right is _MISSING:
            return None
        return self._decide(left, right, kinds.get(self.field) if kinds else None)

    def _decide(self, left: Any, right: Any, kind: Any) -> bool | None:
        if (left is None or right is None) and not self._names_null():
            return None
        if kind is not None and left is not None:
            return self._holds_typed(left, right, kind)
        if not _comparable(left, right, self.op):
            return False
        return _COMPARE[self.op](left, right)

    def _names_null(self) -> bool:
        return self.op in ("in", "not_in") and any(item is None for item in self.value)

    def _holds_typed(self, left: Any, right: Any, kind: Any) -> bool:
        values = [typed(item, kind) for item in right] if self.op in ("in", "not_in") else typed(right, kind)
        left = typed(left, kind)
        if (
            left is UNCOMPARABLE
            or values is UNCOMPARABLE
            or (isinstance(values, list) and UNCOMPARABLE in values)
        ):
            return False
        try:
            return bool(_TYPED[self.op](left, values))
        except (TypeError, OverflowError):  # values the schema let through that have no order: it fails
            return False


steps = functools.cache(parse_path)
"""A rule path's steps, parsed once per path (rules are immutable; a contract has a handful)."""


def lookup(data: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted ``path``, or a sentinel when any step is absent."""
    return _lookup_steps(data, tuple(path.split(".")))


def _lookup_steps(data: Mapping[str, Any], steps: tuple[Step, ...]) -> Any:
    node: Any = data
    for part in steps:
        # exact dicts first: a JSON payload holds nothing else, and the ABC check costs more than the lookup
        if not (type(node) is dict or isinstance(node, Mapping)) or part not in node:
            return _MISSING
        node = node[part]
    return node


def load_problem(exc: ValidationError) -> str:
    """A Python contract's ValidationError in one line: ``rule max_weight: op: "lte" is not an operator...``
    for a rule; the model's name and each problem otherwise."""
    problems = []
    for error in exc.errors(include_url=False):
        data = error.get("input")
        if exc.title == "Rule" and isinstance(data, dict):
            problems.append(f"rule {data.get('name', '(unnamed)')}: {problem_words(error, 'rule')}")
        else:
            problems.append(f"{exc.title}: {problem_words(error, exc.title)}")
    return "; ".join(problems)


_MEMBERS = {
    "rule": "name, field, op, value, other_field, message",
    "contract file": "name, version, description, identity, rules, schema",
}


def problem_words(error: ErrorDetails, what: str) -> str:
    """One validation error of a rule (or a contract file) in words, without Pydantic's codes and links:
    ``op: "lte" is not an operator; use one of lt, le, gt, ge, eq, ne, in, not_in``."""
    where = ".".join(str(part) for part in error["loc"])
    kind = error["type"]
    if kind == "literal_error" and where.endswith("op"):
        text = f"{repr_json(error['input'])} is not an operator; use one of {', '.join(SYMBOLS)}"
    elif kind == "missing":
        text = "missing"
    elif kind == "extra_forbidden":
        text = f"not a member of a {what} ({_MEMBERS.get(what, '')})"
    else:
        text = error["msg"].removeprefix("Value error, ")
    return f"{where}: {text}" if where else text


def _as_number(value: Any) -> Any:
    if not isinstance(value, Decimal):
        return value
    if not value.is_finite():
        raise ValueError(f"{value} is not a JSON number")
    if value == value.to_integral_value():
        return int(value)
    number = float(value)
    if Decimal(repr(number)) != value:
        raise ValueError(f"{value} has more digits than a JSON number keeps (about 15 significant digits)")
    return number


def _comparable(left: Any, right: Any, op: str) -> bool:
    if op in _UNORDERED:
        return True
    kinds = (type(left), type(right))
    if kinds in _SAME_KIND:
        return True
    if isinstance(left, bool) or isinstance(right, bool):
        return False
    # Only numbers and strings are ordered: `null < null` or `{} < {}` would raise; the validator must not.
    numbers = (int, float)
    both_numbers = isinstance(left, numbers) and isinstance(right, numbers)
    return both_numbers or (isinstance(left, str) and isinstance(right, str))
