"""Shared Hypothesis strategies: JSON values, JSON-ish text, shipments and orders, valid or broken."""

import json
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from sigma_aetl.core.taxonomy import RootCause

SHIPMENT_FIELDS = ("shipment_id", "weight_kg", "destination", "priority")

# Integers well past 64 bits (orjson turns those into floats; the parser must keep them exact).
huge_integers = st.one_of(
    st.integers(min_value=2**64, max_value=2**300),
    st.integers(min_value=-(2**300), max_value=-(2**64)),
)

# Text made mostly of the characters JSON is built from, so that it is often nearly valid.
_JSON_ALPHABET = st.sampled_from([*'{}[]":,.-+eE0123456789 \t\n\r\\/utrfalsn', "\ufeff", "\x00", "é"])
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    huge_integers,
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.text(_JSON_ALPHABET, max_size=8),  # strings that look like JSON syntax: '":"', '{', ...
)

json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(st.text(max_size=8), children, max_size=5),
    ),
    max_leaves=25,
)

json_objects = st.dictionaries(st.text(max_size=8), json_values, max_size=6)

json_ish_text = st.one_of(
    st.text(_JSON_ALPHABET, max_size=60),
    st.text(max_size=60),
    # lone surrogates make the text impossible to encode as UTF-8 without surrogatepass
    st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF) | _JSON_ALPHABET, max_size=20),
)

whitespace = st.sampled_from(["", " ", "  ", "\n", "\t", "\r\n "])


def dumps(value: Any, *, ensure_ascii: bool = False) -> bytes:
    """Compact JSON bytes of ``value`` (lone surrogates, if any, are written as escapes)."""
    return json.dumps(value, ensure_ascii=ensure_ascii, separators=(",", ":")).encode(
        "utf-8", "surrogatepass"
    )


@st.composite
def serialised(draw: st.DrawFn, value: dict[str, Any]) -> bytes:
    """``value`` as a JSON object with its keys in a random order and random whitespace between tokens."""
    keys = draw(st.permutations(list(value)))
    ascii_only = draw(st.booleans())

    def pad() -> str:
        return draw(whitespace)

    members = [
        f"{pad()}{json.dumps(key, ensure_ascii=ascii_only)}{pad()}:{pad()}"
        f"{json.dumps(value[key], ensure_ascii=ascii_only)}{pad()}"
        for key in keys
    ]
    return f"{pad()}{{{','.join(members) or pad()}}}{pad()}".encode()


valid_weights = st.one_of(
    st.integers(min_value=1, max_value=1000),
    st.floats(min_value=0, max_value=1000, exclude_min=True, allow_nan=False),
)

valid_shipments = st.fixed_dictionaries(
    {
        "shipment_id": st.text(min_size=1, max_size=30),
        "weight_kg": valid_weights,
        "destination": st.text(min_size=1, max_size=30),
        "priority": st.integers(min_value=1, max_value=3),
    }
)

_containers = st.one_of(
    st.lists(json_scalars, max_size=3), st.dictionaries(st.text(max_size=5), json_scalars)
)
_finite_floats = st.floats(allow_nan=False, allow_infinity=False)
_non_strings = st.one_of(st.none(), st.booleans(), st.integers(), _finite_floats, _containers)
_non_numbers = st.one_of(st.none(), st.booleans(), st.text(max_size=10), _containers)
_non_integers = st.one_of(st.none(), st.booleans(), st.text(max_size=10), _finite_floats, _containers)

WRONG_TYPES = {
    "shipment_id": _non_strings,
    "weight_kg": _non_numbers,
    "destination": _non_strings,
    "priority": _non_integers,
}
"""For each shipment field, values of a JSON type the contract does not accept."""


@st.composite
def broken_shipments(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, RootCause]]:
    """A shipment with fields of the wrong type, missing and unknown fields; and the cause per path."""
    base = draw(valid_shipments)
    wrong = draw(st.sets(st.sampled_from(SHIPMENT_FIELDS)))
    missing = draw(st.sets(st.sampled_from(SHIPMENT_FIELDS))) - wrong
    extra = draw(
        st.dictionaries(
            st.text(max_size=10).filter(lambda k: k not in SHIPMENT_FIELDS), json_scalars, max_size=3
        )
    )
    document = {name: draw(WRONG_TYPES[name]) if name in wrong else value for name, value in base.items()}
    for name in missing:
        del document[name]
    document.update(extra)
    expected = dict.fromkeys(wrong, RootCause.TYPE_MISMATCH)
    expected |= dict.fromkeys(missing, RootCause.MISSING_FIELD)
    expected |= dict.fromkeys(extra, RootCause.UNEXPECTED_FIELD)
    return document, expected


@st.composite
def reordered(draw: st.DrawFn, value: Any) -> Any:
    """The same JSON value with the keys of every object inserted in another order."""
    if isinstance(value, dict):
        keys = draw(st.permutations(list(value)))
        return {key: draw(reordered(value[key])) for key in keys}
    if isinstance(value, list):
        return [draw(reordered(item)) for item in value]
    return value


# Orders (order@1, contracts/order/v1.py): values near every edge the contract decides on.
_prices = st.one_of(
    st.integers(min_value=-5, max_value=20_000),
    st.decimals(min_value=-1, max_value=20_000, places=2, allow_nan=False).map(float),
    st.decimals(min_value=0, max_value=100, places=3, allow_nan=False).map(float),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["12.50", "1", True, None, 0, 0.0, 1e300, 12.345]),
)
_instants = st.one_of(
    st.datetimes(timezones=st.timezones()).map(lambda moment: moment.isoformat()),
    st.datetimes().map(lambda moment: moment.isoformat()),
    st.datetimes().map(lambda moment: moment.isoformat(sep=" ") + "Z"),
    st.sampled_from(
        [
            "2025-01-01T10:00:00Z",
            "2025-01-01t10:00:00z",
            "2025-01-01T10:00Z",
            "2025-12-31T23:59:60Z",
            "0000-01-01T00:00:00Z",
            "2025-02-30T10:00:00Z",
            "2025-01-01T10:00:00+24:00",
            "2025-01-01T10:00:00.123456789-05:30",
            "2025-01-01",
            "yesterday",
        ]
    ),
    st.integers(),
)
_items = st.fixed_dictionaries(
    {
        "sku": st.one_of(
            st.sampled_from(["ABC-1234", "XYZ-0000"]),
            st.from_regex(r"[A-Z]{3}-[0-9]{4}", fullmatch=True),
            st.text(max_size=9),
        ),
        "quantity": st.one_of(st.integers(min_value=-2, max_value=150), st.sampled_from([2.0, "3", True])),
        "unit_price": _prices,
    },
    optional={"colour": st.just("red")},
)
valid_orders = st.fixed_dictionaries(
    {
        "order_id": st.text(min_size=1, max_size=10),
        "status": st.sampled_from(["placed", "paid", "shipped", "cancelled"]),
        "customer": st.fixed_dictionaries(
            {"customer_id": st.text(min_size=1, max_size=5), "country": st.sampled_from(["IE", "FR"])}
        ),
        "items": st.lists(
            st.fixed_dictionaries(
                {
                    "sku": st.just("ABC-1234"),
                    "quantity": st.integers(min_value=1, max_value=100),
                    "unit_price": st.decimals(min_value=0, max_value=999, places=2, allow_nan=False).map(
                        float
                    ),
                }
            ),
            min_size=1,
            max_size=3,
        ),
        "total": st.decimals(min_value="0.01", max_value=10_000, places=2, allow_nan=False).map(float),
        "placed_at": st.just("2025-01-01T10:00:00+01:00"),
    },
    optional={
        "shipped_at": st.sampled_from([None, "2025-01-02T10:00:00Z"]),
        "coupon": st.sampled_from([None, "SALE"]),
    },
)
_order_changes = {
    "order_id": st.one_of(st.just(""), st.text(min_size=65, max_size=70), json_scalars),
    "status": st.one_of(st.sampled_from(["lost", "PAID", 3, None]), json_scalars),
    "customer": st.one_of(
        json_values,
        st.fixed_dictionaries(
            {"customer_id": st.sampled_from(["", "C", 5]), "country": st.sampled_from(["ie", "IE", 1])}
        ),
    ),
    "items": st.one_of(st.lists(st.one_of(_items, json_scalars), max_size=4), json_scalars),
    "total": _prices,
    "placed_at": _instants,
    "shipped_at": st.one_of(st.none(), _instants),
    "coupon": st.one_of(st.sampled_from(["", "SALE", None]), json_scalars),
    "note": json_values,
}
broken_orders = st.tuples(
    valid_orders, st.dictionaries(st.sampled_from(sorted(_order_changes)), st.none(), min_size=1, max_size=3)
).flatmap(
    lambda pair: st.fixed_dictionaries({name: _order_changes[name] for name in pair[1]}).map(
        lambda changes: {**pair[0], **changes}
    )
)

# HTTP request headers as the gateway records them: lower-case names, latin-1 values (one char per byte).
header_values = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=1200)
request_headers = st.dictionaries(
    st.sampled_from(["content-type", "user-agent", "idempotency-key", "x-request-id", "x-forwarded-for"]),
    header_values,
    max_size=5,
)

# Batch bodies: events and the bytes that separate them, in every form a producer might send.
_SEPARATORS = st.sampled_from([b"\n", b"\r\n", b"\x1e", b"\x1e\n", b",", b" ", b"\n\n", b"[", b"]", b""])
_batch_parts = st.one_of(
    st.builds(json.dumps, json_values).map(str.encode),
    st.binary(max_size=12),
    st.text(_JSON_ALPHABET, max_size=12).map(str.encode),
    _SEPARATORS,
)
batch_bodies = st.lists(_batch_parts, max_size=12).map(b"".join)
"""Bodies made of JSON texts, JSON-ish bytes and batch separators (LF, CRLF, RS, commas, brackets)."""

# What a failure id is made of, from an alphabet rich in the characters an address or key could use to
# spell another one ("@" between name and version, "?" for a part not named, "#" before a batch index).
_FORGERY_TEXT = st.text(st.sampled_from(["a", "b", "1", "@", "?", "#", "0", '"', "\\", ",", "é"]), max_size=5)
failure_addresses = st.tuples(
    st.none() | _FORGERY_TEXT,
    st.none() | _FORGERY_TEXT,
    st.one_of(
        st.tuples(st.just("key"), _FORGERY_TEXT),
        st.tuples(st.just("key"), _FORGERY_TEXT, st.integers(0, 20).map(str)),
        st.tuples(st.just("raw"), _FORGERY_TEXT),
        st.tuples(st.just("kafka"), _FORGERY_TEXT, st.integers(0, 3).map(str), st.integers(0, 9).map(str)),
    ),
)
"""``(contract, version, source identity)`` as :func:`sigma_aetl.core.ids.failure_id` takes them."""


finite_floats = st.floats(allow_nan=False, allow_infinity=False)


def with_more_digits(number: float) -> str:
    """``number``'s shortest text with about 25 more significant digits, none of them zero: a decimal
    no 64-bit float holds (a float's shortest text has at most 17 significant digits)."""
    shortest = Decimal(repr(number))
    return format(shortest + shortest.copy_abs().scaleb(-25) * Decimal("1.1"), "E")


shipments_near_valid = st.builds(
    lambda shipment, extra, drop: {
        **{key: item for key, item in shipment.items() if key != drop},
        **extra,
    },
    valid_shipments,
    st.dictionaries(
        st.sampled_from(["weight_kg", "priority", "note", "shipment_id"]), json_values, max_size=2
    ),
    st.sampled_from([None, "priority", "destination"]),
)


@st.composite
def event_payloads(draw: st.DrawFn) -> bytes:
    """Valid, near-valid and hostile payloads, compact or spaced, sometimes with a repeated key or a BOM."""
    value: dict[str, Any] = draw(
        st.one_of(valid_shipments, shipments_near_valid, valid_orders, json_objects, st.just({}))
    )
    raw = draw(st.one_of(st.just(dumps(value)), serialised(value)))
    twist = draw(st.sampled_from(["", "", "repeat", "bom", "bytes", "text"]))
    if twist == "repeat" and value:
        key = next(iter(value))
        raw = raw[:-1] + b"," + dumps({key: value[key]})[1:]
    elif twist == "bom":
        raw = "\ufeff".encode() + raw
    elif twist == "bytes":
        raw = raw[:-1] + draw(st.sampled_from([b"\xff}", b"\xc3}", b"1e400}", b"}}", b"]"]))
    elif twist == "text":
        raw = draw(json_ish_text).encode("utf-8", "surrogatepass")
    return raw
