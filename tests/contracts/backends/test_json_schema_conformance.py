"""Our own 2020-12 conformance corpus, run through the backend and raw jsonschema-rs in the same test run:
every difference between the two is one of the documented strictness rules.

The corpus (``fixtures/json_schema_conformance.json``) is written in the JSON-Schema-Test-Suite's shape: a
group is a schema and cases; each case gives the specification's verdict (``valid``, checked here against
jsonschema-rs, so the corpus cannot drift from the specification) and, when this backend decides otherwise,
its own (``here``) and the ``rule`` that explains it.
"""

import functools
import json
import math
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigma_aetl.contracts import jsonschema_contract
from sigma_aetl.core.contract import Contract
from sigma_aetl.core.validator import validate
from strategies import dumps, json_objects, json_values

CORPUS_FILE = Path(__file__).parents[1] / "fixtures" / "json_schema_conformance.json"
CORPUS: list[dict[str, Any]] = json.loads(CORPUS_FILE.read_text(encoding="utf-8"))
DOCS = Path(__file__).parents[3] / "docs" / "contracts.md"
RULES = {
    "integer": "`1.0` is not an integer",
    "format": "`format` is asserted",
    "rfc3339": "RFC 3339 as read here",
    "decimal": "`decimal` is a number",
    "malformed": "Malformed JSON is not a payload",
    "limits": "Limits come first",
}
"""Each strictness rule, by the name docs/contracts.md gives it (in bold, in its table)."""
KEYWORDS_2020_12 = frozenset(
    {
        *("$schema", "$id", "$ref", "$anchor", "$dynamicRef", "$dynamicAnchor", "$defs", "$comment"),
        *("allOf", "anyOf", "oneOf", "not", "if", "then", "else", "dependentSchemas", "prefixItems", "items"),
        *("contains", "properties", "patternProperties", "additionalProperties", "propertyNames"),
        *("unevaluatedItems", "unevaluatedProperties", "type", "enum", "const", "multipleOf", "maximum"),
        *("exclusiveMaximum", "minimum", "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems"),
        *("minItems", "uniqueItems", "maxContains", "minContains", "maxProperties", "minProperties"),
        *("required", "dependentRequired", "title", "description", "default", "deprecated", "readOnly"),
        *("writeOnly", "examples", "format", "contentEncoding", "contentMediaType", "contentSchema"),
    }
)
"""Every keyword of the 2020-12 vocabularies a contract's schema can use (``$vocabulary`` belongs to
meta-schemas only)."""


@functools.cache
def contract(index: int) -> Contract:
    """The contract of corpus group ``index``, compiled once."""
    return jsonschema_contract(name="corpus", version=index + 1, schema=CORPUS[index]["schema"])


@functools.cache
def reference(index: int) -> jsonschema_rs.Validator:
    """Raw jsonschema-rs over the same schema, with its defaults (Draft 2020-12: formats annotate)."""
    return jsonschema_rs.Draft202012Validator(CORPUS[index]["schema"])


def cases() -> list[Any]:
    """Every case of the corpus, with its group's index."""
    return [
        pytest.param(index, case, id=f"{index}.{number} {group['description']}")
        for index, group in enumerate(CORPUS)
        for number, case in enumerate(group["tests"])
    ]


def payload(case: dict[str, Any]) -> bytes:
    """The case's bytes: its text as written, or its data as JSON."""
    return case["raw"].encode() if "raw" in case else json.dumps(case["data"]).encode()


@pytest.mark.parametrize(("index", "case"), cases())
def test_every_difference_is_a_documented_rule(index: int, case: dict[str, Any]) -> None:
    """The backend decides as jsonschema-rs does, except where the case names the strictness rule that
    makes it differ."""
    raw = payload(case)
    specification = reference(index).is_valid(json.loads(raw))
    assert specification is case["valid"], "the corpus states the specification's verdict"
    here = validate(contract(index), raw).passed
    assert here is case.get("here", case["valid"])
    assert (here != specification) is ("rule" in case)
    assert case.get("rule", "integer") in RULES


def test_the_corpus_covers_every_keyword() -> None:
    """Every 2020-12 keyword a contract can use appears in the corpus's schemas."""
    used: set[str] = set()
    for group in CORPUS:
        _keys(group["schema"], used)
    assert KEYWORDS_2020_12 - used == set()


def test_every_rule_is_documented_and_exercised() -> None:
    """Each strictness rule is in docs/contracts.md's table, and at least one case shows it."""
    docs = DOCS.read_text(encoding="utf-8")
    shown = {case["rule"] for group in CORPUS for case in group["tests"] if "rule" in case}
    for rule, name in RULES.items():
        assert f"| **{name}** |" in docs
        assert rule in shown


@st.composite
def events(draw: st.DrawFn) -> tuple[int, dict[str, Any]]:
    """A corpus group and an object near its cases: a case's data with one field replaced or added."""
    index = draw(st.integers(min_value=0, max_value=len(CORPUS) - 1))
    group = CORPUS[index]
    objects = [case["data"] for case in group["tests"] if isinstance(case.get("data"), dict)]
    base = dict(draw(st.sampled_from(objects))) if objects else {}
    names = sorted({*base, *(group["schema"].get("properties") or {})}) or ["a"]
    base[draw(st.sampled_from(names) | st.text(max_size=3))] = draw(json_values)
    return index, draw(st.sampled_from([base, draw(json_objects)]))


@settings(max_examples=200, deadline=None)
@given(event=events())
def test_arbitrary_objects_decide_alike(event: tuple[int, dict[str, Any]]) -> None:
    """An object near the corpus's cases gets the same decision from both, unless it holds a number written
    with a fraction that is whole (the integer rule) or the schema asserts a format (the format rules)."""
    index, value = event
    raw = dumps(value)
    here = validate(contract(index), raw).passed
    if _whole_floats(value) or "format" in json.dumps(CORPUS[index]["schema"]):
        return
    assert here is reference(index).is_valid(json.loads(raw))


def _keys(node: Any, used: set[str]) -> None:
    if isinstance(node, dict):
        used.update(node)
        for child in node.values():
            _keys(child, used)
    elif isinstance(node, list):
        for child in node:
            _keys(child, used)


def _whole_floats(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value) and value.is_integer()
    if isinstance(value, dict):
        return any(_whole_floats(child) for child in value.values())
    if isinstance(value, list):
        return any(_whole_floats(child) for child in value)
    return False
