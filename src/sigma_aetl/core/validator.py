"""The validator: a pure function from (contract version, raw bytes) to a decision.

It never raises for any input bytes, and the same input always gives the same decision, byte for byte.
Stages run as a chain — parse, shape, schema, business rules — and every error found is reported, not only
the first. Business rules run on the fields that passed the schema stage.
"""

from collections.abc import Iterable, Mapping, Sequence, Set
from typing import Any

from sigma_aetl.core.canonical import canonical
from sigma_aetl.core.contract import Contract
from sigma_aetl.core.decision import Decision, FieldError
from sigma_aetl.core.explain import explain_expected, json_type_phrase, show
from sigma_aetl.core.jsonparse import Limits, parse
from sigma_aetl.core.rules import Rule, lookup
from sigma_aetl.core.taxonomy import STAGE_OF, RootCause, Stage, primary

DEFAULT_LIMITS = Limits()
_NONE: frozenset[str] = frozenset()


def validate(contract: Contract, raw: bytes, limits: Limits = DEFAULT_LIMITS) -> Decision:
    """Decide whether ``raw`` satisfies ``contract``."""
    parsed = parse(raw, limits)
    if isinstance(parsed, FieldError):
        return failed([parsed], contract)
    if not isinstance(parsed.value, dict):
        return failed([not_an_object(parsed.value)], contract)
    errors = contract.check(parsed.text, parsed.value)
    skip = _failed_fields(errors) if errors else _NONE
    errors.extend(rule_errors(contract.rules, parsed.value, skip, contract.rule_kinds))
    if errors:
        return failed(errors, contract)
    return Decision(
        status="PASSED",
        contract=contract.name,
        version=contract.version,
        fingerprint=contract.fingerprint,
        data=canonical(parsed.value),
    )


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
    rules: Iterable[Rule], data: Mapping[str, Any], skip: Set[str], kinds: Mapping[str, Any] | None = None
) -> list[FieldError]:
    """Every business rule that does not hold, ignoring rules on fields the schema already rejected."""
    errors = []
    for rule in rules:
        if skip and any(field.split(".")[0] in skip for field in rule.fields()):
            continue
        if rule.holds(data, kinds) is False:
            errors.append(_rule_error(rule, lookup(data, rule.field)))
    return errors


def _rule_error(rule: Rule, received: Any) -> FieldError:
    constraint = rule.describe()
    return FieldError(
        path=rule.field,
        loc=tuple(rule.field.split(".")),
        type="business_rule",
        root_cause=RootCause.BUSINESS_RULE_VIOLATION,
        stage=Stage.BUSINESS_RULE,
        message=rule.message,
        constraint=constraint,
        rule=rule.name,
        explanation=f"{rule.field}: rule {rule.name} requires {constraint}, received {show(received)}. "
        + rule.message,
    )


def _failed_fields(errors: Iterable[FieldError]) -> set[str]:
    return {str(error.loc[0]) for error in errors if error.loc}
