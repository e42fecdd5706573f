"""The fixed root-cause taxonomy and validation stages.

Every failure record carries exactly one primary ``root_cause``. When several errors are found, the primary
cause is the most fundamental one, in the order of :data:`PRECEDENCE`: routing comes first (an event with no
valid contract is never examined further), then a payload that cannot be read at all, then a missing field,
and so on down to business rules and identity conflicts.
"""

from enum import StrEnum


class Stage(StrEnum):
    """Where in the pipeline an error was found."""

    TRANSPORT = "transport"
    """The payload could not be read: encoding, size, JSON syntax, nesting."""
    ROUTING = "routing"
    """The event names no contract, or one that is not registered."""
    SCHEMA = "schema"
    """The payload does not match the contract's schema."""
    BUSINESS_RULE = "business_rule"
    """The payload matches the schema but breaks a business rule."""
    IDENTITY = "identity"
    """The record's identity is already stored with different content."""


class RootCause(StrEnum):
    """Why an event failed. Fixed and documented in docs/failures.md; new members are added, never renamed."""

    UNROUTED = "unrouted"
    UNKNOWN_CONTRACT = "unknown_contract"
    UNKNOWN_VERSION = "unknown_version"
    INVALID_ENCODING = "invalid_encoding"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    NESTING_TOO_DEEP = "nesting_too_deep"
    MALFORMED_JSON = "malformed_json"
    NOT_AN_OBJECT = "not_an_object"
    MISSING_FIELD = "missing_field"
    UNEXPECTED_FIELD = "unexpected_field"
    TYPE_MISMATCH = "type_mismatch"
    CONSTRAINT_VIOLATION = "constraint_violation"
    BUSINESS_RULE_VIOLATION = "business_rule_violation"
    IDENTITY_CONFLICT = "identity_conflict"


PRECEDENCE: tuple[RootCause, ...] = tuple(RootCause)
"""Most fundamental first; the declaration order of :class:`RootCause`."""

_RANK = {cause: rank for rank, cause in enumerate(PRECEDENCE)}

STAGE_OF: dict[RootCause, Stage] = {
    RootCause.INVALID_ENCODING: Stage.TRANSPORT,
    RootCause.PAYLOAD_TOO_LARGE: Stage.TRANSPORT,
    RootCause.NESTING_TOO_DEEP: Stage.TRANSPORT,
    RootCause.MALFORMED_JSON: Stage.TRANSPORT,
    RootCause.NOT_AN_OBJECT: Stage.SCHEMA,
    RootCause.UNROUTED: Stage.ROUTING,
    RootCause.UNKNOWN_CONTRACT: Stage.ROUTING,
    RootCause.UNKNOWN_VERSION: Stage.ROUTING,
    RootCause.MISSING_FIELD: Stage.SCHEMA,
    RootCause.UNEXPECTED_FIELD: Stage.SCHEMA,
    RootCause.TYPE_MISMATCH: Stage.SCHEMA,
    RootCause.CONSTRAINT_VIOLATION: Stage.SCHEMA,
    RootCause.BUSINESS_RULE_VIOLATION: Stage.BUSINESS_RULE,
    RootCause.IDENTITY_CONFLICT: Stage.IDENTITY,
}


def primary(causes: list[RootCause]) -> RootCause:
    """Return the most fundamental cause among ``causes`` (which must not be empty)."""
    return min(causes, key=_RANK.__getitem__)
