"""Explicit routing of Kafka messages to a contract version: the topic map first, else the headers.

Pure: no client, no I/O. A topic named in the worker's map routes every one of its messages to that
``contract@version``; the operator's map is the binding, and headers on such a topic are recorded but never
change the route (when they disagree, ``route.ignored_headers`` says what they named). A topic outside the
map is routed by the producer's ``sigma-contract`` and ``sigma-version`` headers. A message with neither
names no contract: the pipeline stores it as an ``unrouted`` failure, and an unknown name or version as
``unknown_contract`` / ``unknown_version``. Nothing is inferred.

Header names are matched exactly (they are lower case). A header with a null value counts as absent; a
header repeated with different values is ambiguous and also counts as absent (never pick one); a value
that is not UTF-8 is decoded with replacement characters, so it can never name a real contract.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from sigma_aetl.core.refs import ContractRef, parse_ref

CONTRACT_HEADER = "sigma-contract"
"""The header naming the contract of a message on a topic outside the topic map."""
VERSION_HEADER = "sigma-version"
"""The header naming the contract version (a plain number: ``1``)."""
IDEMPOTENCY_HEADER = "idempotency-key"
"""The header naming the event for idempotency; a failure's id then derives from it, not from the offset."""

Headers = Sequence[tuple[str, bytes | None]]
"""Kafka headers in order: name and value (``None`` for a null value). Names may repeat."""

RouteMap = Mapping[str, tuple[str, str]]
"""Topic → (contract name, version), as configured."""

_ROUTE = re.compile(r"([^=\s]+)=(.+)")


@dataclass(frozen=True, slots=True)
class Route:
    """Where a message is addressed, and what decided it."""

    contract: str | None
    version: str | None
    by: Literal["topic", "headers", "none"]
    ignored_headers: str | None = None
    """On a mapped topic: the ``contract@version`` the headers named when they disagreed with the map."""

    def metadata(self) -> dict[str, Any]:
        """The route as stored in a record's transport metadata."""
        found: dict[str, Any] = {"by": self.by}
        if self.ignored_headers is not None:
            found["ignored_headers"] = self.ignored_headers
        return found


_NOWHERE = Route(None, None, "none")


@lru_cache(maxsize=256)
def _by_topic(contract: str, version: str) -> Route:
    """The route of a mapped topic's message without headers: one value per mapping (a Route is frozen)."""
    return Route(contract, version, "topic")


def parse_route(text: str) -> tuple[str, str]:
    """``topic=name@version`` → ``(topic, "name@version")``; raises ValueError for anything else."""
    match = _ROUTE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not TOPIC=NAME@VERSION (for example shipments=shipment@1)")
    return match.group(1), str(parse_ref(match.group(2)))


def route_map(routes: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """Topic → ``name@version`` strings (settings) → the parsed map; raises ValueError on a bad reference."""
    return {topic: _address(parse_ref(ref)) for topic, ref in routes.items()}


def _address(ref: ContractRef) -> tuple[str, str]:
    return ref.name, ref.version


def resolve(topic: str, headers: Headers, routes: RouteMap) -> Route:
    """The route of one message: its topic's mapping, else its headers, else none."""
    if not headers:  # the common case: nothing to read, nothing to disagree with
        mapped = routes.get(topic)
        return _NOWHERE if mapped is None else _by_topic(*mapped)
    contract = header_text(headers, CONTRACT_HEADER)
    version = header_text(headers, VERSION_HEADER)
    mapped = routes.get(topic)
    if mapped is not None:
        return Route(mapped[0], mapped[1], "topic", _disagreement(mapped, contract, version))
    if contract is None and version is None:
        return Route(None, None, "none")
    return Route(contract, version, "headers")


def header_text(headers: Headers, name: str) -> str | None:
    """The one text value of header ``name``; None when absent, null or ambiguous (repeated, differing)."""
    values = {value for key, value in headers if key == name and value is not None}
    if len(values) != 1:
        return None
    return values.pop().decode("utf-8", errors="replace")


def _disagreement(mapped: tuple[str, str], contract: str | None, version: str | None) -> str | None:
    named = (contract if contract is not None else mapped[0], version if version is not None else mapped[1])
    if named == mapped:
        return None
    return f"{contract or '?'}@{version or '?'}"
