"""Bounded label values for the metrics: what a producer sends can never add a time series.

A contract and version are labelled as such only when the registry serving holds that version; any other
contract name is :data:`UNREGISTERED`, and so is any other version of a registered contract. A failed
field is labelled by its path with indices as ``[*]`` (``items[*].sku``, as failure classes name it, see
:func:`sigma_aetl.core.classes.normalise_path`) only when the contract version declares that path, top
level or nested; the whole payload is :data:`PAYLOAD`, and anything else — an unknown field, a field of an
unregistered contract — is :data:`OTHER`. So the label sets are bounded by the contracts loaded, whatever
arrives (``tests/ingest/test_metrics.py`` sends thousands of distinct unknown names to check it).
"""

from sigma_aetl.contracts.registry import Registry
from sigma_aetl.core.classes import normalise_path
from sigma_aetl.core.contract import Contract
from sigma_aetl.core.paths import parse_path
from sigma_aetl.core.rule_kinds import field_node

UNREGISTERED = "_unregistered"
"""The contract (or version) label of an event addressed to a contract version the registry lacks."""
OTHER = "other"
"""The field label of an error at a path the contract version does not declare."""
PAYLOAD = "(payload)"
"""The field label of an error about the whole payload (the empty path): malformed JSON, not an object."""
MAX_UNDECLARED = 1024
"""Undeclared paths remembered per contract version; past it they are looked up again each time, so a
flood of distinct unknown fields costs lookups, never memory."""


class Labels:
    """Contract, version and field labels for the events one registry judges."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        contracts = registry.all()
        self._refs = {contract.ref: (contract.name, str(contract.version)) for contract in contracts}
        self._contracts = {contract.ref: contract for contract in contracts}
        self._names = frozenset(contract.name for contract in contracts)
        self._fields: dict[str, dict[str, str]] = {}

    def contract(self, contract_ref: str) -> tuple[str, str]:
        """The (contract, version) labels of an event addressed as ``contract_ref`` (``name@version``)."""
        known = self._refs.get(contract_ref)
        if known is not None:
            return known
        name = contract_ref.rpartition("@")[0]
        return (name if name in self._names else UNREGISTERED), UNREGISTERED

    def field(self, contract_ref: str, path: str) -> str:
        """The field label of an error at ``path`` in an event addressed as ``contract_ref``."""
        if not path:
            return PAYLOAD
        contract = self._contracts.get(contract_ref)
        if contract is None:
            return OTHER
        path = normalise_path(path)
        cache = self._fields.setdefault(contract_ref, {})
        label = cache.get(path)
        if label is None:
            label = _declared(contract, path)
            if label != OTHER or len(cache) < MAX_UNDECLARED:  # declared paths are bounded by the schema
                cache[path] = label
        return label


def _declared(contract: Contract, path: str) -> str:
    """``path`` (indices as ``[*]``) if ``contract`` declares it, else :data:`OTHER`."""
    try:
        steps = parse_path(path)
    except ValueError:
        return OTHER
    return path if field_node(contract.json_schema, steps) is not None else OTHER
