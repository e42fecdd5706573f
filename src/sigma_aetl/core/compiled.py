"""The compiled pass: a valid flat event's accepted record, built in one pass from its bytes.

Today's path decides (:func:`~sigma_aetl.core.validator.validate`: a parse, a ``Decision`` holding the
canonical data) and then builds (:func:`~sigma_aetl.core.records.build_record`: the ids, the hashes and
the raw payload, decoding the bytes a second time). For the common event, a flat object the contract
accepts, :func:`accepted` does the same work once and builds only the record: the flat parse
(:func:`~sigma_aetl.core.fastpass.flat_parsed`), the schema check, the rules, then the record from the
text it already decoded. It builds exactly the record today's path builds (tests/core/test_compiled.py
proves it with Hypothesis payloads on both backends). A flat event that fails is judged by the
validator from the same parse and check (:func:`~sigma_aetl.core.validator.judged`); one it cannot prove
flat goes back to today's path, which decides it as before.
"""

from sigma_aetl.core.canonical import sha256_hex
from sigma_aetl.core.contract import Contract
from sigma_aetl.core.decision import Decision
from sigma_aetl.core.envelope import Envelope
from sigma_aetl.core.fastpass import flat_parsed
from sigma_aetl.core.jsonparse import Limits, parse
from sigma_aetl.core.records import AcceptedRecord, RawPayload, StoredRecord, accepted_record, build_record
from sigma_aetl.core.validator import decided, failed, judged, rule_errors


def record_of(contract: Contract, envelope: Envelope, limits: Limits) -> StoredRecord:
    """The record to store for ``envelope`` (whole, not truncated), routed to ``contract``: the compiled
    pass's, else the one ``validate`` and ``build_record`` give (the same, made without a second try of
    the flat parse)."""
    fast = accepted(contract, envelope, limits)
    if isinstance(fast, AcceptedRecord):
        return fast
    if fast is None:  # not flat: the full parse, without trying the flat one again
        fast = decided(contract, parse(envelope.raw, limits))[0]
    return build_record(envelope, fast, contract)


def accepted(contract: Contract, envelope: Envelope, limits: Limits) -> AcceptedRecord | Decision | None:
    """The record ``build_record(envelope, validate(contract, envelope.raw, limits), contract)`` gives
    when ``envelope`` (whole, not truncated) is a flat object ``contract`` accepts as it is. When the
    schema or a rule finds an error, the decision ``validate`` gives, from this one parse and check (the
    event fails, or passes without its unknown fields under a contract that ignores them). None when it
    is not a flat object the compiled parse can read: decide it the usual way."""
    raw = envelope.raw
    parsed = flat_parsed(raw, limits)
    if parsed is None:
        return None
    value = parsed.value
    errors = contract.check(parsed.text, value)
    if errors:
        return judged(contract, parsed, errors)[0]
    broken = rule_errors(contract.rules, value, kinds=contract.rule_kinds)
    if broken:  # what judged finds without schema errors (a flat parse holds no inexact number)
        return failed(broken, contract)
    data = dict(sorted(value.items()))  # flat: the canonical form is its keys in order
    payload = RawPayload("utf-8", parsed.text, len(raw), sha256_hex(raw))  # the text is the bytes, decoded
    return accepted_record(envelope, data, contract, payload)
