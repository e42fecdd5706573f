"""SIGMA-AETL: a contract-first ingestion gateway.

Every event is checked at the boundary against an explicit, versioned, immutable data contract; valid events
are stored exactly once, invalid ones become first-class failure records. Nothing is repaired or dropped.
"""

__version__ = "0.1.0"
