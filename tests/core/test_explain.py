"""Explanations: paths, JSON type names and the shown received value."""

import pytest

from sigma_aetl.core.explain import explain_expected, explain_missing, format_path, json_type, show


@pytest.mark.parametrize(
    ("loc", "path"),
    [((), ""), (("a",), "a"), (("items", 2, "sku"), "items[2].sku"), ((0,), "[0]"), (("a", "b"), "a.b")],
)
def test_format_path(loc: tuple[str | int, ...], path: str) -> None:
    """Locations render as dotted paths with [index] for array positions."""
    assert format_path(loc) == path


@pytest.mark.parametrize(
    ("value", "name"),
    [
        (None, "null"),
        (True, "boolean"),
        (1, "integer"),
        (1.0, "number"),
        ("", "string"),
        ([], "array"),
        ({}, "object"),
    ],
)
def test_json_type(value: object, name: str) -> None:
    """Python values are named by their JSON type; a boolean is not an integer."""
    assert json_type(value) == name


def test_show_names_the_type_with_the_right_article() -> None:
    """show() writes compact JSON and the type with a or an."""
    assert show("2") == '"2" (a string)'
    assert show(2) == "2 (an integer)"
    assert show([1, {"b": 1, "a": 2}]) == '[1,{"a":2,"b":1}] (an array)'


def test_show_shortens_long_values_to_sixty_characters() -> None:
    """Values longer than 60 characters are cut with an ellipsis."""
    shown = show("y" * 100)
    assert shown == '"' + "y" * 56 + "... (a string)"


def test_explanations_read_as_sentences() -> None:
    """Missing and expected explanations name the path; the whole payload is called payload."""
    assert explain_missing("priority") == "priority: required, but the field is missing."
    assert (
        explain_expected("", "a JSON object", [])
        == "payload: expected a JSON object, received [] (an array)."
    )
