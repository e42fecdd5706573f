"""Value types: plain dataclasses at run time, frozen to the type checker."""

import textwrap
from pathlib import Path

import orjson
from mypy import api

from sigma_aetl.core.records import RawPayload
from sigma_aetl.core.value import value


@value
class Point:
    """Two numbers."""

    x: int
    y: int = 0


@value(kw_only=True)
class Named:
    """A name, given by keyword."""

    name: str


def test_values_compare_and_hash_by_their_fields() -> None:
    """Equal fields make equal values with equal hashes, as frozen dataclasses have."""
    assert Point(1, 2) == Point(1, 2)
    assert hash(Point(1, 2)) == hash(Point(1, 2))
    assert {Point(1, 2), Point(1, 2), Point(2)} == {Point(1, 2), Point(2, 0)}
    assert Named(name="a") == Named(name="a")


def test_orjson_writes_the_fields_in_declaration_order() -> None:
    """The JSON of a value type is its fields, in the order the class declares them."""
    assert orjson.dumps(Point(3, 4)) == b'{"x":3,"y":4}'
    raw = RawPayload.of(b"{}")
    assert list(orjson.loads(orjson.dumps(raw))) == [
        "encoding",
        "text",
        "size",
        "sha256",
        "truncated",
        "size_unknown",
    ]


def test_mypy_rejects_assigning_to_a_field(tmp_path: Path) -> None:
    """Changing a record, a raw payload or an error after it is built is a type error under mypy --strict."""
    source = tmp_path / "mutate.py"
    source.write_text(
        textwrap.dedent(
            """
            from sigma_aetl.core.decision import FieldError
            from sigma_aetl.core.records import RawPayload

            def change(raw: RawPayload, error: FieldError) -> None:
                raw.size = 3
                error.message = "changed"
            """
        )
    )
    out, _, status = api.run(
        [str(source), "--strict", "--follow-imports=silent", "--cache-dir", str(tmp_path / "cache")]
    )
    assert status == 1
    assert out.count("is read-only") == 2, out
