"""Remediation hints: what to do about an error, by its type, for the producer or the contract's owner.

An error's explanation says what was expected and what arrived; its hint says what to change. Hints are
static words per error type (the explanation carries the specifics), written once for every type either
backend, the parser, the rules and the records emit:

- the parser (:mod:`~sigma_aetl.core.jsonparse`, :mod:`~sigma_aetl.core.numbers`), routing
  (``contracts/registry.py``), the validator (``not_an_object``, ``business_rule``) and the records
  (``identity_conflict``);
- the JSON Schema backend: its error type is the JSON Schema keyword (``required``, ``minLength``...);
- the Pydantic backend: its error type is Pydantic's (``missing``, ``int_type``, ``greater_than``...).
  Pydantic's type errors form families (``<type>_type``, ``<type>_parsing``): one hint serves each family.

:func:`hint_for` answers None for a type it does not know; :func:`hint` then falls back to the error's
root cause, so a diagnosis always has words (``tests/core/test_hints.py`` fails on a type the validator
can produce without its own entry).
"""

from sigma_aetl.core.taxonomy import RootCause

_TYPE = "Send the value as the JSON type the contract declares for this field (see its explanation)."
_RANGE = "Send a value within the contract's bounds, or ask the contract's owner to widen them."
_LENGTH = "Send a value of the length the contract allows (see its explanation)."
_ITEMS = "Send as many items as the contract allows (see its explanation)."
_FIELDS = "Send an object with as many fields as the contract allows."
_OPTIONS = "Send one of the values the contract lists; a new value needs a new contract version."
_FORMAT = "Send the value in the format the contract names (RFC 3339 for dates and date-times)."
_PATTERN = "Send a value matching the contract's pattern (see its explanation)."
_MISSING = (
    "Send the field: it is required. If the producer renamed it, see the near misses; if it is no "
    "longer sent at all, the contract needs a new version where it is optional."
)
_UNEXPECTED = (
    "Stop sending the field, or send it under the name the contract uses (see the near misses); a new "
    "field needs a new contract version that declares it."
)
_STEP = "Send a multiple of the contract's step (for money: no more decimal places than it allows)."
_COMBINED = "Send a value that fits the alternatives the contract allows (its explanation names the nearest)."

HINTS: dict[str, str] = {
    # transport: the payload could not be read
    "payload_too_large": (
        "Send smaller events (split a batch), or raise max_request_bytes if they are legitimate."
    ),
    "invalid_utf8": "Encode the payload as UTF-8 (RFC 8259); the producer sends another encoding.",
    "utf8_bom": "Send UTF-8 without a byte order mark: the producer's serialiser writes one.",
    "malformed_json": "Send valid JSON: the producer builds its payload by hand or truncates it.",
    "nesting_too_deep": "Flatten the payload: it is nested deeper than the parser reads.",
    "duplicate_key": "Send each key once per object: the payload is ambiguous and is never merged.",
    "inexact_number": "Send the number as a string, or with fewer digits: a 64-bit float cannot hold it.",
    # routing: no contract to judge it
    "unrouted": "Name the contract and version (the URL /v1/ingest/NAME/VERSION, or the Kafka routing).",
    "unknown_contract": "Address a contract that is loaded (check the name), or add that contract.",
    "unknown_version": "Address a version that is loaded, or add that version to the contracts directory.",
    # the payload's shape
    "not_an_object": "Send one JSON object per event (a batch is an array of objects, sent as a batch).",
    "business_rule": "Send a value the business rule allows (its message says why), or route it elsewhere.",
    "identity_conflict": (
        "Give a changed event a new identity, or send the same content again: a stored record is never "
        "overwritten."
    ),
    # JSON Schema keywords
    "required": _MISSING,
    "additionalProperties": _UNEXPECTED,
    "unevaluatedProperties": _UNEXPECTED,
    "falseSchema": _UNEXPECTED,
    "type": _TYPE,
    "minimum": _RANGE,
    "maximum": _RANGE,
    "exclusiveMinimum": _RANGE,
    "exclusiveMaximum": _RANGE,
    "multipleOf": _STEP,
    "minLength": _LENGTH,
    "maxLength": _LENGTH,
    "pattern": _PATTERN,
    "format": _FORMAT,
    "enum": _OPTIONS,
    "const": "Send exactly the value the contract fixes for this field.",
    "minItems": _ITEMS,
    "maxItems": _ITEMS,
    "uniqueItems": "Send each item once: the contract does not allow repeated items.",
    "contains": "Send at least one item of the kind the contract asks the array to contain.",
    "minContains": "Send as many matching items as the contract asks the array to contain.",
    "maxContains": "Send no more matching items than the contract allows.",
    "unevaluatedItems": "Send no more items than the contract describes.",
    "additionalItems": "Send no more items than the contract describes.",
    "minProperties": _FIELDS,
    "maxProperties": _FIELDS,
    "propertyNames": "Name the fields as the contract's naming rule asks (see its explanation).",
    "dependentRequired": "Send the fields the contract requires together with this one.",
    "anyOf": _COMBINED,
    "oneOf": _COMBINED,
    "allOf": "Send a value that meets every part of the contract's definition (see its explanation).",
    "not": "Send a value the contract does not exclude (see its explanation).",
    "custom": "Send a value the contract's check allows (see its explanation).",
    # Pydantic error types
    "missing": _MISSING,
    "missing_argument": _MISSING,
    "missing_keyword_only_argument": _MISSING,
    "extra_forbidden": _UNEXPECTED,
    "unexpected_keyword_argument": _UNEXPECTED,
    "int_from_float": "Send a whole number without a fraction (2, not 2.5): the field is an integer.",
    "none_required": "Send null here: the contract allows no other value.",
    "is_instance_of": _TYPE,
    "union_tag_not_found": "Send the discriminator field the contract uses to tell the alternatives apart.",
    "union_tag_invalid": "Send a discriminator value the contract knows.",
    "greater_than": _RANGE,
    "greater_than_equal": _RANGE,
    "less_than": _RANGE,
    "less_than_equal": _RANGE,
    "finite_number": "Send a finite number.",
    "string_too_short": _LENGTH,
    "string_too_long": _LENGTH,
    "too_short": _ITEMS,
    "too_long": _ITEMS,
    "string_pattern_mismatch": _PATTERN,
    "multiple_of": _STEP,
    "decimal_max_places": _STEP,
    "decimal_max_digits": "Send fewer digits: the contract bounds how many the number has.",
    "decimal_whole_digits": "Send fewer digits before the decimal point: the contract bounds them.",
    "literal_error": _OPTIONS,  # and "enum", the same as JSON Schema's
    "datetime_format": _FORMAT,
    "date_format": _FORMAT,
    "timezone_aware": "Send the date-time with its UTC offset (2026-01-01T00:00:00Z).",
    "timezone_naive": "Send the date-time without a UTC offset, as the contract asks.",
    "datetime_past": "Send a date-time in the past, as the contract asks.",
    "datetime_future": "Send a date-time in the future, as the contract asks.",
    "date_past": "Send a date in the past, as the contract asks.",
    "date_future": "Send a date in the future, as the contract asks.",
    "value_error": "Send a value the contract's own check allows (its message says why).",
    "assertion_error": "Send a value the contract's own check allows (its message says why).",
    "url_parsing": "Send a valid URL.",
    "uuid_parsing": "Send a valid UUID (8-4-4-4-12 hexadecimal digits).",
}
"""Error type → what to change. Every type either backend and the core emit has its own entry."""

_FAMILY_SUFFIXES = ("_type", "_parsing")
"""Pydantic's type errors, one family each (``int_type``, ``float_parsing``...): the type hint."""

BY_ROOT_CAUSE: dict[RootCause, str] = {
    RootCause.UNROUTED: HINTS["unrouted"],
    RootCause.UNKNOWN_CONTRACT: HINTS["unknown_contract"],
    RootCause.UNKNOWN_VERSION: HINTS["unknown_version"],
    RootCause.INVALID_ENCODING: HINTS["invalid_utf8"],
    RootCause.PAYLOAD_TOO_LARGE: HINTS["payload_too_large"],
    RootCause.NESTING_TOO_DEEP: HINTS["nesting_too_deep"],
    RootCause.MALFORMED_JSON: HINTS["malformed_json"],
    RootCause.NOT_AN_OBJECT: HINTS["not_an_object"],
    RootCause.MISSING_FIELD: _MISSING,
    RootCause.UNEXPECTED_FIELD: _UNEXPECTED,
    RootCause.TYPE_MISMATCH: _TYPE,
    RootCause.CONSTRAINT_VIOLATION: "Send a value that meets the contract's constraint (its explanation).",
    RootCause.BUSINESS_RULE_VIOLATION: HINTS["business_rule"],
    RootCause.IDENTITY_CONFLICT: HINTS["identity_conflict"],
}
"""Root cause → a hint, for an error type no entry names (a contract's own Pydantic error type)."""


def hint_for(error_type: str) -> str | None:
    """The hint written for ``error_type`` (its own entry, or its Pydantic family's); None if none is."""
    found = HINTS.get(error_type)
    if found is None and error_type.endswith(_FAMILY_SUFFIXES):
        return _TYPE
    return found


def hint(error_type: str, root_cause: RootCause) -> str:
    """The hint for an error: its type's, else its root cause's."""
    return hint_for(error_type) or BY_ROOT_CAUSE[root_cause]
