"""``NAME@VERSION``: how a person names a contract version, parsed in one place for every face.

The command line (``shipment@1``), the Kafka route map (``shipments=shipment@1``), the default contract of
``/api/validate`` and the registry's lookups all read a reference with :func:`parse_ref`. A name or a
version is any run of characters other than whitespace, ``@`` and ``=`` (``=`` separates a topic from its
reference in a route); surrounding whitespace is ignored.
"""

import re
from dataclasses import dataclass

_REF = re.compile(r"([^@\s=]+)@([^@\s=]+)")


@dataclass(frozen=True, slots=True)
class ContractRef:
    """A contract version as a person names it: ``shipment@1``. The version is text, as addressed."""

    name: str
    version: str

    def __str__(self) -> str:
        return f"{self.name}@{self.version}"


def parse_ref(text: str) -> ContractRef:
    """``"shipment@1"`` → ``ContractRef("shipment", "1")``; raises ValueError for anything else."""
    match = _REF.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not NAME@VERSION; write NAME@VERSION, for example shipment@1")
    return ContractRef(match.group(1), match.group(2))
