"""What ``POST /api/validate`` adds to a decision so clients of the original validator keep working.

The original answered with Pydantic's error list; its clients read ``errors[].msg`` and ``errors[].input``
beside ``type`` and ``loc``. Each error here keeps every key of ours and carries those too. A contract
whose ``unknown_fields`` is ``ignore`` (``shipment_compat@1``, the default for this route) also names the
top-level fields it left out of ``clean_data``, so nothing is dropped without saying so.
"""

from typing import Any

from sigma_aetl.core.decision import FieldError, LocPart
from sigma_aetl.core.taxonomy import RootCause

_ABSENT = object()


def original_error(error: dict[str, object], fault: FieldError, received: object) -> dict[str, object]:
    """``error`` (our keys) with the original's ``msg`` and ``input`` added; ``type`` and ``loc`` are
    ours already. ``input`` is the value at ``loc`` as received, the enclosing object for a missing field
    (as Pydantic reports it), and absent when there is no such value."""
    found = _input(fault, received)
    extra: dict[str, object] = {"msg": fault.message}
    if found is not _ABSENT:
        extra["input"] = found
    return {**error, **extra}


def ignored_answer(ignored: tuple[str, ...]) -> dict[str, object]:
    """``{"ignored_fields": [...]}`` when fields were ignored; nothing otherwise, so an event without
    any gets exactly the original's answer."""
    return {"ignored_fields": list(ignored)} if ignored else {}


def _input(fault: FieldError, received: object) -> object:
    if fault.root_cause is RootCause.MISSING_FIELD:
        return _at(received, fault.loc[:-1])
    return _at(received, fault.loc)


def _at(value: Any, loc: tuple[LocPart, ...]) -> object:
    for part in loc:
        keyed = isinstance(value, dict) and isinstance(part, str) and part in value
        if not (keyed or (isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value))):
            return _ABSENT
        value = value[part]
    return value
