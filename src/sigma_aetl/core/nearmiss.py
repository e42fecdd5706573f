"""Near-miss fields: an unexpected field that is a close match of a missing one, so probably a rename.

A producer that sends ``shipmentId`` where the contract requires ``shipment_id`` gets two errors, one field
missing and one unexpected; a near miss says they are the same field. Two names in the same object (the
same parent path, array indices included) are a near miss when:

- they are equal once case is folded and separators (``_``, ``-``, ``.``, spaces) removed: ``shipmentId``,
  ``shipment-id``, ``ShipmentID`` for ``shipment_id`` (reason ``case_or_separators``, distance 0); or
- their folded forms are at most a small Damerau-Levenshtein distance apart (optimal string alignment: an
  insertion, deletion, substitution or swap of two neighbours each counts 1), bounded by their length:
  ``allowed = min(2, len(longer) // 4)``, so ``id``/``ip`` (2 letters: 0 allowed) is not a match,
  ``prority``/``priority`` (8: 2 allowed) is (reason ``edit_distance``).

Each field is paired at most once, best pairs first (smallest distance, then by path), and the answer is
sorted by the missing field's path: the same errors in any order give the same near misses.
"""

import re
from collections.abc import Iterable, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sigma_aetl.core.decision import FieldError, LocPart
from sigma_aetl.core.explain import format_path
from sigma_aetl.core.taxonomy import RootCause

MAX_DISTANCE = 2
"""The most edits a near miss may take, whatever the names' length."""
LETTERS_PER_EDIT = 4
"""One edit is allowed per this many characters of the longer (folded) name."""
_SEPARATORS = re.compile(r"[\s_\-.]+")

Reason = Literal["case_or_separators", "edit_distance"]


class NearMiss(BaseModel):
    """An unexpected field that is probably a missing one under another name."""

    model_config = ConfigDict(frozen=True)

    missing: str = Field(description="The required field's path.", examples=["shipment_id"])
    unexpected: str = Field(description="The field sent instead.", examples=["shipmentId"])
    reason: Reason = Field(
        description="`case_or_separators`: equal once case and separators are ignored; `edit_distance`: a "
        "few letters apart."
    )
    distance: int = Field(description="Edits between the folded names (0 for case or separators).", ge=0)


def fold(name: str) -> str:
    """``ShipmentID``, ``shipment-id``, ``shipment_id`` → ``shipmentid``: case folded, separators removed."""
    return _SEPARATORS.sub("", name).casefold()


def allowed_edits(first: str, second: str) -> int:
    """How many edits two (folded) names may be apart and still be a near miss."""
    return min(MAX_DISTANCE, max(len(first), len(second)) // LETTERS_PER_EDIT)


def distance(first: str, second: str) -> int:
    """The Damerau-Levenshtein distance (optimal string alignment) between two strings."""
    previous2: list[int] = []
    previous = list(range(len(second) + 1))
    for i, left in enumerate(first, 1):
        current = [i]
        for j, right in enumerate(second, 1):
            cost = 0 if left == right else 1
            best = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and left == second[j - 2] and first[i - 2] == right:
                best = min(best, previous2[j - 2] + 1)
            current.append(best)
        previous2, previous = previous, current
    return previous[-1]


def match(missing: str, unexpected: str) -> tuple[Reason, int] | None:
    """Whether two field names are a near miss, and why; None when they are not."""
    left, right = fold(missing), fold(unexpected)
    if not left or not right:
        return None
    if left == right:
        return "case_or_separators", 0
    edits = distance(left, right)
    if 0 < edits <= allowed_edits(left, right):
        return "edit_distance", edits
    return None


def near_misses(errors: Iterable[FieldError]) -> list[NearMiss]:
    """The near misses among ``errors``' missing and unexpected fields, sorted by the missing path."""
    found = list(errors)
    missing = _named(found, RootCause.MISSING_FIELD)
    unexpected = _named(found, RootCause.UNEXPECTED_FIELD)
    taken: set[tuple[LocPart, ...]] = set()
    pairs: list[NearMiss] = []
    for _, m, u, (reason, edits) in _candidates(missing, unexpected):
        if m in taken or u in taken:
            continue
        taken.update((m, u))
        pairs.append(
            NearMiss(missing=format_path(m), unexpected=format_path(u), reason=reason, distance=edits)
        )
    return sorted(pairs, key=lambda pair: (pair.missing, pair.unexpected))


_Candidate = tuple[tuple[int, str, str], tuple[LocPart, ...], tuple[LocPart, ...], tuple[Reason, int]]


def _candidates(
    missing: Sequence[tuple[LocPart, ...]], unexpected: Sequence[tuple[LocPart, ...]]
) -> list[_Candidate]:
    """Every matching pair in the same object, best first: fewest edits, then by the two paths."""
    found: list[_Candidate] = []
    for m in missing:
        for u in unexpected:
            matched = match(str(m[-1]), str(u[-1])) if m[:-1] == u[:-1] else None
            if matched is not None:
                found.append(((matched[1], format_path(m), format_path(u)), m, u, matched))
    return sorted(found, key=lambda candidate: candidate[0])


def _named(errors: Sequence[FieldError], cause: RootCause) -> list[tuple[LocPart, ...]]:
    """The distinct locations of ``cause``'s errors that end in a field name, sorted by path."""
    locs = {error.loc for error in errors if error.root_cause is cause and error.loc}
    return sorted((loc for loc in locs if isinstance(loc[-1], str)), key=format_path)
