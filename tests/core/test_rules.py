"""Business rules: declared as data, validated on construction, evaluated without coercion."""

import pytest
from pydantic import ValidationError

from sigma_aetl.core.explain import repr_json
from sigma_aetl.core.rules import Rule, json_equal, lookup


def rule(**fields: object) -> Rule:
    """A rule named r on field a with message m, with ``fields`` set."""
    return Rule.model_validate({"name": "r", "field": "a", "message": "m", **fields})


def test_rule_needs_exactly_one_operand() -> None:
    """A rule compares with a value or another field, never both and never neither."""
    with pytest.raises(ValidationError, match="exactly one of"):
        rule(op="le")
    with pytest.raises(ValidationError, match="exactly one of"):
        rule(op="le", value=1, other_field="b")


@pytest.mark.parametrize("op", ["in", "not_in"])
def test_membership_rules_need_a_list(op: str) -> None:
    """in and not_in take a list value; a scalar or another field is refused."""
    with pytest.raises(ValidationError, match="take a list"):
        rule(op=op, value="x")
    with pytest.raises(ValidationError, match="take a list"):
        rule(op=op, other_field="b")
    assert rule(op=op, value=["x"]).op == op


def test_unknown_operator_and_unknown_keys_are_refused() -> None:
    """Only the documented operators and fields exist."""
    with pytest.raises(ValidationError):
        rule(op="like", value="x")
    with pytest.raises(ValidationError):
        rule(op="eq", value=1, severity="high")


def test_rules_are_immutable() -> None:
    """A rule cannot be changed after construction."""
    with pytest.raises(ValidationError):
        rule(op="eq", value=1).value = 2  # type: ignore[misc]


@pytest.mark.parametrize(
    ("fields", "text"),
    [
        ({"op": "le", "value": 1000}, "a <= 1000"),
        ({"op": "ge", "other_field": "b"}, "a >= b"),
        ({"op": "eq", "value": "x"}, 'a == "x"'),
        ({"op": "ne", "value": True}, "a != true"),
        ({"op": "in", "value": [1, 2]}, "a in [1, 2]"),
        ({"op": "not_in", "value": ["x", True]}, 'a not in ["x", true]'),
        ({"op": "lt", "value": 0.5}, "a < 0.5"),
    ],
)
def test_describe(fields: dict[str, object], text: str) -> None:
    """A rule describes itself as a one-line expression."""
    assert rule(**fields).describe() == text


def test_fields_lists_every_field_read() -> None:
    """fields() is the checked field, plus the other field when there is one."""
    assert rule(op="le", value=1).fields() == ("a",)
    assert rule(op="le", other_field="b.c").fields() == ("a", "b.c")


@pytest.mark.parametrize(
    ("op", "value", "data", "holds"),
    [
        ("le", 1000, {"a": 1000}, True),
        ("le", 1000, {"a": 1000.5}, False),
        ("lt", 10, {"a": 9.99}, True),
        ("gt", 0, {"a": 0}, False),
        ("ge", 0, {"a": 0.0}, True),
        ("eq", "x", {"a": "x"}, True),
        ("ne", "x", {"a": "y"}, True),
        ("in", ["a", "b"], {"a": "b"}, True),
        ("not_in", ["a", "b"], {"a": "b"}, False),
        ("le", "m", {"a": "k"}, True),
        ("le", 2**70, {"a": 2**70}, True),
    ],
)
def test_holds_against_a_value(op: str, value: object, data: dict[str, object], holds: bool) -> None:
    """A rule against a constant holds or not as the comparison says."""
    assert rule(op=op, value=value).holds(data) is holds


@pytest.mark.parametrize(
    ("data", "holds"),
    [
        ({"a": 5, "b": 3}, True),
        ({"a": 3, "b": 3}, True),
        ({"a": 2, "b": 3}, False),
        ({"a": 2.5, "b": 2}, True),
        ({"a": "2024-02-01", "b": "2024-01-31"}, True),
        ({"a": 5}, None),
        ({"b": 5}, None),
        ({"a": None, "b": None}, None),
        ({"a": None, "b": 3}, None),
        ({"a": 5, "b": "3"}, False),
        ({"a": [2], "b": [1]}, False),
        ({"a": {"x": 1}, "b": {"x": 0}}, False),
    ],
)
def test_holds_against_another_field(data: dict[str, object], holds: bool | None) -> None:
    """a >= b compares two fields; absent or null ones make it not apply; incomparable values break it."""
    assert rule(op="ge", other_field="b").holds(data) is holds


@pytest.mark.parametrize("op", ["lt", "le", "gt", "ge"])
def test_booleans_are_not_numbers_for_ordering(op: str) -> None:
    """true is never ordered against numbers: the rule fails instead of comparing 1 with a bound."""
    assert rule(op=op, value=5).holds({"a": True}) is False
    assert rule(op=op, value=True).holds({"a": 1}) is False
    assert rule(op=op, other_field="b").holds({"a": False, "b": 0}) is False


def test_booleans_are_not_numbers_for_equality() -> None:
    """true does not equal 1 and false is not in [0]; 1 still equals 1.0."""
    assert rule(op="eq", value=1).holds({"a": True}) is False
    assert rule(op="ne", value=1).holds({"a": True}) is True
    assert rule(op="eq", value=True).holds({"a": True}) is True
    assert rule(op="in", value=[0, 1]).holds({"a": False}) is False
    assert rule(op="not_in", value=[0, 1]).holds({"a": False}) is True
    assert rule(op="eq", value=1).holds({"a": 1.0}) is True
    assert rule(op="eq", other_field="b").holds({"a": [1, True], "b": [1, 1]}) is False


def test_json_equal() -> None:
    """JSON equality keeps booleans apart from numbers at every depth."""
    assert json_equal({"x": [1, 2.0]}, {"x": [1.0, 2]})
    assert not json_equal({"x": [True]}, {"x": [1]})
    assert not json_equal({"x": 1}, {"x": 1, "y": 2})
    assert not json_equal([1], [1, 1])
    assert json_equal(None, None)
    assert not json_equal(0, None)


def test_lookup_follows_dotted_paths() -> None:
    """lookup walks nested objects and reports an absent step as missing, not as null."""
    data = {"a": {"b": {"c": None}}, "x": [1]}
    assert lookup(data, "a.b.c") is None
    assert lookup(data, "a.b") == {"c": None}
    missing = lookup(data, "a.z")
    assert missing is lookup(data, "x.0")
    assert missing is not None
    assert rule(field="a.b.c", op="in", value=[None]).holds(data) is True  # a rule naming null sees it
    assert rule(field="a.z", op="in", value=[None]).holds(data) is None  # an absent field is not null


def test_repr_json() -> None:
    """Constants render as JSON literals in messages."""
    assert [repr_json(v) for v in ("s", True, False, None, 1.5)] == ['"s"', "true", "false", "null", "1.5"]
