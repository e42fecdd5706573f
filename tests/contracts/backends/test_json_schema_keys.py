"""Compiling a JSON Schema contract never changes the meaning of a key, whatever characters it holds."""

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from contract_support import object_schema
from sigma_aetl.contracts import jsonschema_contract
from sigma_aetl.contracts.backends.json_schema import strict_copy
from sigma_aetl.contracts.backends.json_schema_walk import walk
from sigma_aetl.core.taxonomy import RootCause
from sigma_aetl.core.validator import validate
from strategies import dumps

# Keys made mostly of the characters JSON Pointer escapes (RFC 6901), and of anything else
pointer_keys = st.one_of(
    st.lists(st.sampled_from(["/", "~", "0", "1", "a", "~0", "~1", " "]), min_size=1, max_size=6).map(
        "".join
    ),
    st.text(min_size=1, max_size=8),
)


def test_a_key_with_a_slash_is_one_key() -> None:
    """A property named ``a/b`` is that property: ``a`` is unknown, and ``1.0`` is not an integer there."""
    contract = jsonschema_contract(
        name="thing", version=1, schema=object_schema({"a/b": {"type": "integer"}}, required=[])
    )
    unknown = validate(contract, b'{"a": 5}')
    assert [(e.path, e.root_cause) for e in unknown.errors] == [("a", RootCause.UNEXPECTED_FIELD)]
    fraction = validate(contract, b'{"a/b": 1.0}')
    assert [(e.path, e.root_cause) for e in fraction.errors] == [("a/b", RootCause.TYPE_MISMATCH)]
    assert validate(contract, b'{"a/b": 1}').passed


def test_a_pattern_with_slashes_is_one_pattern() -> None:
    """``^/api/`` in patternProperties applies to the keys it matches and to no other key."""
    schema = object_schema(
        {"name": {"type": "string"}}, required=[], patternProperties={"^/api/": {"type": "integer"}}
    )
    contract = jsonschema_contract(name="thing", version=1, schema=schema)
    assert validate(contract, b'{"name": "x", "/api/v1": 5}').passed
    wrong = validate(contract, b'{"/api/v1": 5.0}')
    assert [(e.path, e.root_cause) for e in wrong.errors] == [("/api/v1", RootCause.TYPE_MISMATCH)]


def test_a_tilde_key_and_its_escape_stay_apart() -> None:
    """``~1`` and ``/`` are two different property names, each with its own schema."""
    schema = object_schema({"~1": {"type": "integer"}, "/": {"type": "string"}}, required=[])
    contract = jsonschema_contract(name="thing", version=1, schema=schema)
    assert validate(contract, b'{"~1": 1, "/": "x"}').passed
    assert not validate(contract, b'{"~1": "x"}').passed
    assert not validate(contract, b'{"/": 1}').passed


def test_keys_that_read_as_numbers_keep_their_spelling() -> None:
    """An error under the key ``00`` is at ``00``, beside a key ``0`` that is fine, not at ``0``."""
    schema = object_schema({"0": {"type": "integer"}, "00": {"type": "integer"}, "+1": {}}, required=[])
    contract = jsonschema_contract(name="thing", version=1, schema=schema)
    decision = validate(contract, b'{"0": 1, "00": "x", "+1": 0, "01": 2}')
    assert [(e.loc, e.root_cause) for e in decision.errors] == [
        (("00",), RootCause.TYPE_MISMATCH),
        (("01",), RootCause.UNEXPECTED_FIELD),
    ]


def test_locations_are_json_pointers() -> None:
    """The location of a subschema escapes ``~`` and ``/`` in its keys as RFC 6901 says."""
    schema = object_schema({"a/b": {"type": "integer"}, "c~d": {"type": "string"}})
    assert [path for path, _ in walk(schema)] == ["", "/properties/a~1b", "/properties/c~0d"]


@settings(max_examples=150, deadline=None)
@given(key=pointer_keys, other=pointer_keys)
def test_compilation_keeps_every_key(key: str, other: str) -> None:
    """Strict compilation only marks integer subschemas: the keys of every map stay exactly as written."""
    schema = object_schema(
        {key: {"type": "integer"}, other: {"type": "string"}},
        required=[],
        patternProperties={key: {"type": "integer"}},
        **{"$defs": {key: {"type": "integer"}}},
    )
    compiled: dict[str, Any] = strict_copy(schema)
    assert set(compiled["properties"]) == set(schema["properties"])
    assert set(compiled["patternProperties"]) == {key}
    assert set(compiled["$defs"]) == {key}
    assert compiled["$defs"][key] == {"type": "integer", "x-sigma-strict-integer": True}


@settings(max_examples=150, deadline=None)
@given(key=pointer_keys, other=pointer_keys)
def test_every_key_decides_as_written(key: str, other: str) -> None:
    """An integer property of any name takes integers only, and no other name is taken for it."""
    contract = jsonschema_contract(
        name="thing", version=1, schema=object_schema({key: {"type": "integer"}}, required=[])
    )
    assert validate(contract, dumps({key: 1})).passed
    fraction = validate(contract, dumps({key: 1.0}))
    assert [(e.loc, e.root_cause) for e in fraction.errors] == [((key,), RootCause.TYPE_MISMATCH)]
    if other != key:
        unknown = validate(contract, json.dumps({other: 1}).encode())
        assert [(e.loc, e.root_cause) for e in unknown.errors] == [((other,), RootCause.UNEXPECTED_FIELD)]
