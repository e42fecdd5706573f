"""The validator: a pure function from (contract version, raw bytes) to a decision.

It never raises for any input bytes, and the same input always gives the same decision, byte for byte.
Stages run as a chain — parse, shape, schema, business rules — and every error found is reported, not only
the first. Business rules run on the fields that passed the schema stage.
"""

from collections.abc import Iterable, Mapping, Sequence, Set
from typing import Any

from sigma_aetl.core.canonical import canonical
from sigma_aetl.core.contract import Contract
from sigma_aetl.core.decision import Decision, FieldError, LocPart
from sigma_aetl.core.explain import explain_expected, format_path, json_type_phrase, show
from sigma_aetl.core.fastpass import flat_parsed
from sigma_aetl.core.jsonparse import Limits, Parsed, parse
from sigma_aetl.core.numbers import counts_in, inexact_error
from sigma_aetl.core.rules import Rule
from sigma_aetl.core.taxonomy import STAGE_OF, RootCause, Stage, primary

DEFAULT_LIMITS = Limits()
Loc = tuple[LocPart, ...]
_NONE: tuple[frozenset[Loc], frozenset[Loc]] = (frozenset(), frozenset())
_NOTHING_IGNORED: tuple[str, ...] = ()


def validate(contract: Contract, raw: bytes, limits: Limits = DEFAULT_LIMITS) -> Decision:
    """Decide whether ``raw`` satisfies ``contract``."""
    return validate_noting(contract, raw, limits)[0]


def validate_noting(
    contract: Contract, raw: bytes, limits: Limits = DEFAULT_LIMITS
) -> tuple[Decision, tuple[str, ...]]:
    """The decision, and the undeclared top-level fields it ignored (sorted; only a contract whose
    ``unknown_fields`` is ``ignore`` ignores any: they are left out of the record, never kept unchecked)."""
    return decided(contract, flat_parsed(raw, limits) or parse(raw, limits))  # the flat parse, else today's


def decided(contract: Contract, parsed: Parsed | FieldError) -> tuple[Decision, tuple[str, ...]]:
    """:func:`validate_noting`'s answer for the bytes that gave ``parsed`` (a parse or why there is none)."""
    if isinstance(parsed, FieldError):
        return failed([parsed], contract), ()
    if not isinstance(parsed.value, dict):
        return failed([not_an_object(parsed.value)], contract), ()
    return judged(contract, parsed, contract.check(parsed.text, parsed.value))


def judged(contract: Contract, parsed: Parsed, errors: list[FieldError]) -> tuple[Decision, tuple[str, ...]]:
    """:func:`validate_noting`'s answer for a parsed object whose schema stage found ``errors``: its
    numbers and business rules judged next (the compiled pass, which checked the schema, comes here with
    an event it cannot accept as it is). ``errors`` is extended, not copied."""
    if parsed.inexact:  # found at parse, so the same for every backend
        errors.extend(inexact_error(n) for n in parsed.inexact if counts_in(n, contract.json_schema))
    data, ignored = parsed.value, _NOTHING_IGNORED
    if contract.unknown_fields == "ignore" and errors:
        errors, data, ignored = _ignore_unknown(errors, parsed.value)
    skip = _failed_locations(errors) if errors else _NONE
    errors.extend(rule_errors(contract.rules, data, skip, contract.rule_kinds))
    if errors:
        return failed(errors, contract), ignored
    decision = Decision(
        status="PASSED",
        contract=contract.name,
        version=contract.version,
        fingerprint=contract.fingerprint,
        data=canonical(data),
    )
    return decision, ignored


def _ignore_unknown(
    errors: list[FieldError], value: dict[str, Any]
) -> tuple[list[FieldError], dict[str, Any], tuple[str, ...]]:
    """Drop the unexpected-field errors of top-level fields, and those fields from the data."""
    unknown = [error for error in errors if _top_level_unknown(error)]
    names = {str(error.loc[0]) for error in unknown}
    kept = [error for error in errors if error not in unknown]
    data = {key: item for key, item in value.items() if key not in names}
    return kept, data, tuple(sorted(names))


def _top_level_unknown(error: FieldError) -> bool:
    return error.root_cause is RootCause.UNEXPECTED_FIELD and len(error.loc) == 1


def failed(errors: Sequence[FieldError], contract: Contract | None = None) -> Decision:
    """A FAILED decision carrying every error; the primary root cause is the most fundamental one."""
    cause = primary([error.root_cause for error in errors])
    return Decision(
        status="FAILED",
        contract=contract.name if contract else None,
        version=contract.version if contract else None,
        fingerprint=contract.fingerprint if contract else None,
        root_cause=cause,
        stage=STAGE_OF[cause],
        errors=tuple(errors),
    )


def not_an_object(value: Any) -> FieldError:
    """The payload is valid JSON but not an object."""
    return FieldError(
        path="",
        loc=(),
        type="not_an_object",
        root_cause=RootCause.NOT_AN_OBJECT,
        stage=Stage.SCHEMA,
        message=f"The payload must be a JSON object, not {json_type_phrase(value)}.",
        constraint="type object",
        explanation=explain_expected("", "a JSON object", value),
    )


def rule_errors(
    rules: Iterable[Rule],
    data: Mapping[str, Any],
    skip: tuple[Set[Loc], Set[Loc]] = _NONE,
    kinds: Mapping[str, Any] | None = None,
) -> list[FieldError]:
    """Every place a business rule does not hold, ignoring values the schema already rejected.

    ``skip`` is where the schema found errors, and those places with their ancestors
    (:func:`_failed_locations`): a rule reads no value that failed, holds one that failed, or lies
    inside one that failed; ``items[2].quantity`` is still read when only ``items[2].sku`` failed."""
    errors = []
    for rule in rules:
        if skip[0] and rule.other_field is not None and _rejected(tuple(rule.other_field.split(".")), skip):
            continue
        for loc, received in rule.violations(data, kinds):
            if not (skip[0] and _rejected(loc, skip)):
                errors.append(_rule_error(rule, loc, received))
    return errors


def _rejected(loc: Loc, skip: tuple[Set[Loc], Set[Loc]]) -> bool:
    failed, around = skip
    return loc in around or any(loc[:depth] in failed for depth in range(1, len(loc)))


def _rule_error(rule: Rule, loc: tuple[LocPart, ...], received: Any) -> FieldError:
    constraint = rule.describe()
    path = format_path(loc)
    return FieldError(
        path=path,
        loc=loc,
        type="business_rule",
        root_cause=RootCause.BUSINESS_RULE_VIOLATION,
        stage=Stage.BUSINESS_RULE,
        message=rule.message,
        constraint=constraint,
        rule=rule.name,
        explanation=f"{path}: rule {rule.name} requires {constraint}, received {show(received)}. "
        + rule.message,
    )


def _failed_locations(errors: Iterable[FieldError]) -> tuple[set[Loc], set[Loc]]:
    """Where the schema found errors; and those places with their ancestors (``items``, ``items[2]``)."""
    failed = {error.loc for error in errors if error.loc}
    return failed, {loc[:depth] for loc in failed for depth in range(1, len(loc) + 1)}
